#!/usr/bin/env python3
"""The README's examples, run as written (issue 26 #12: its variants example was refused).

usage: readme_examples_test.py README.md /path/to/modlab-cli

- every ```json block is a config fragment: it trains for a few steps;
- every `modlab-cli ...` line of a ```sh block names subcommands and options the program has
  (checked against its own --help); those that finish in seconds are run as written, in a
  scratch folder ('sweep slurm' without --submit where no Slurm runs).
"""
import json
import os
import re
import shutil
import shlex
import subprocess
import sys
import tempfile

readme, cli = sys.argv[1], os.path.realpath(sys.argv[2])
text = open(readme, encoding="utf-8").read()
blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
failures = []
work = tempfile.mkdtemp(prefix="modlab-readme-")
env = dict(os.environ, MODLAB_RUNS_DIR=os.path.join(work, "runs"), QT_QPA_PLATFORM="offscreen")


def run(args, what):
    p = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        failures.append(f"{what}: exit {p.returncode}: {(p.stderr or p.stdout).strip()[-400:]}")
    return p


quick = ["--set", "steps=4", "--set", "eval_every=2", "--set", "batch_size=16", "--set", "eval_batches=1",
         "--set", "matrix_samples=64", "--set", "adaptation_priors=1", "--set", "adaptation_samples=32", "--set", "size=16"]
configs = 0
for lang, body in blocks:
    if lang != "json":
        continue
    fragment = body.strip()
    config = json.loads(fragment if fragment.startswith("{") else "{" + fragment + "}")
    path = os.path.join(work, f"readme-{configs}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    run([cli, "train", "--config", path, *quick, "--out", os.path.join(work, f"json-run-{configs}"), "--quiet"],
        f"README json block {configs + 1}")
    configs += 1


def help_of(path):
    return subprocess.run([cli, *path, "--help"], capture_output=True, text=True).stdout


def subcommands(path):
    h = help_of(path)
    return re.findall(r"^  (\S+)", h.split("Subcommands:", 1)[1], flags=re.M) if "Subcommands:" in h else []


runnable = {("sweep", "plan"), ("sweep", "slurm"), ("config", "show"), ("config", "keys"), ("presets",), ("info",),
            ("sweep", "status")}
commands = 0
for lang, body in blocks:
    if lang != "sh":
        continue
    for line in body.splitlines():
        line = line.split("  #")[0].strip()
        if not line.startswith("modlab-cli "):
            continue
        words = shlex.split(line)[1:]
        path = []
        while words and words[0] in subcommands(path):
            path.append(words.pop(0))
        if not path:
            failures.append(f"'{line}': no subcommand this modlab-cli has")
            continue
        known = set(re.findall(r"(--[a-z][a-z-]*)", help_of(path)))
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            if option not in known:
                failures.append(f"'{line}': {' '.join(path)} has no option {option}")
        commands += 1
        if tuple(path) in runnable:
            args = [w for w in words if w != "--submit"] if path == ["sweep", "slurm"] else words
            run([cli, *path, *args], f"'{line}'")

shutil.rmtree(work, ignore_errors=True)
print(f"{configs} JSON examples trained, {commands} command lines checked against --help (the quick ones run)")
if failures:
    print("FAIL:\n" + "\n".join(failures))
    sys.exit(1)
print("PASS: the README's examples are accepted as written")
