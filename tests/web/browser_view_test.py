"""The browser view in headless Chromium (issue 24).

A run trains while `modlab-cli serve` serves its folder; the page must show it growing, show
the heatmaps and metric bars of the run's own files, download the CSV the server (and the app)
writes, and load with no console error (a Content-Security-Policy violation is one). Then
every page is photographed at 1280x720, at 1920x1080 with the projector text scale, and at
390x844, light and dark, into SCREENSHOT_DIR for a person to look at.

usage: browser_view_test.py MODLAB_CLI SCREENSHOT_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CLI = sys.argv[1]
SHOTS = sys.argv[2]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run([CLI, *args], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def wait_for(predicate, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # the page is still loading
            pass
        time.sleep(0.2)
    raise TimeoutError(what)


def last_evaluation_rows(run_dir, step):
    """The metrics of `step` from metrics.csv: {(model, metric): value}."""
    out = {}
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split(",")
            if len(parts) == 6 and parts[2] == "metrics" and int(parts[0]) == step:
                out[(parts[1], parts[3])] = float(parts[4])
    return out


def activations(run_dir, model, step):
    with open(os.path.join(run_dir, "activations.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            if record.get("family") == model and record.get("step") == step:
                return record["module_given_rule"]
    return None


work = tempfile.mkdtemp(prefix="modlab-browser-")
runs = os.path.join(work, "runs")
os.makedirs(runs)
downloads = os.path.join(work, "downloads")
os.makedirs(downloads)
os.makedirs(SHOTS, exist_ok=True)
env = dict(os.environ, MODLAB_RUNS_DIR=runs)
small = ["--set", "size=16", "--set", "batch_size=64", "--set", "eval_batches=1", "--set", "matrix_samples=512", "--set", "threads=1"]
processes = []
try:
    # A finished run, a second seed of it (the compare page), and a tiny sweep.
    for seed in (0, 1):
        run("train", "--preset", "demo-mlp-few-rules", *small, "--set", "steps=600", "--set", "eval_every=100",
            "--set", f"model_seed={seed}", "--quiet", "--out", os.path.join(runs, f"finished-seed{seed}"), env=env)
    grid = os.path.join(work, "grid.json")
    with open(grid, "w") as f:
        json.dump({"name": "tiny", "settings": ["mlp"], "tasks": ["classification", "regression"], "rules": [2], "sizes": [8],
                   "model_seeds": [0, 1], "base": {"mlp": {"steps": 60, "eval_every": 30, "batch_size": 32, "eval_batches": 1,
                   "matrix_samples": 256, "adaptation_priors": 2, "adaptation_samples": 128, "threads": 1}}}, f)
    run("sweep", "plan", "--grid", grid, "--out", os.path.join(runs, "sweep-tiny"), env=env)
    run("sweep", "run", os.path.join(runs, "sweep-tiny"), "--jobs", "2", env=env)

    # The live run: long enough to outlast the test.
    live_dir = os.path.join(runs, "live")
    trainer = subprocess.Popen([CLI, "train", "--preset", "demo-mlp-classification", *small, "--set", "steps=10000000",
                                "--set", "eval_every=300", "--quiet", "--out", live_dir], env=env)
    processes.append(trainer)
    wait_for(lambda: os.path.exists(os.path.join(live_dir, "activations.jsonl")), 120, "the live run's first evaluation")

    server = subprocess.Popen([CLI, "serve", runs, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    processes.append(server)
    address = None
    for line in server.stdout:
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            address = m.group(1)
            break
    check(address is not None, "modlab-cli serve prints its address")
    # Its log lines (each refused request) are read on, so that a full pipe never stops it.
    threading.Thread(target=lambda: [print("serve:", l.rstrip(), flush=True) for l in server.stdout], daemon=True).start()
    base = address.rstrip("/")

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage",
              "--force-device-scale-factor=1", "--font-render-hinting=none"):
        options.add_argument(a)
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False,
                                              # a second download from one page asks the user first; here it is allowed
                                              "profile.default_content_setting_values.automatic_downloads": 1})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)

    def console_errors():
        return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]

    try:
        driver.set_window_size(1280, 720)
        # The runs page lists every run with its state.
        driver.get(base + "/")
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
                        if len(driver.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")) >= 7 else None, 20, "the runs table")
        states = {r.get_attribute("data-run"): r.find_element(By.CSS_SELECTOR, ".state").get_attribute("data-state") for r in rows}
        check(states.get("live") == "running" and states.get("finished-seed0") == "finished", f"runs page states: {states}")
        check(len([s for s in states if s.startswith("sweep-tiny/")]) == 4, "the sweep's runs are listed")

        # The run page of the live run: the loss chart grows as training advances.
        driver.get(base + "/run/live")
        # The page redraws as points arrive: each reading is one script, never a held element.
        attr = lambda sel, name: driver.execute_script("const e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1]);", sel, name)
        wait_for(lambda: int(attr("svg[data-testid=loss-chart]", "data-received") or 0) > 0, 20, "the loss chart's first points")
        first = int(attr("svg[data-testid=loss-chart]", "data-received"))
        drawn = int(attr("svg[data-testid=loss-chart]", "data-points"))
        time.sleep(3)
        later = int(attr("svg[data-testid=loss-chart]", "data-received"))
        check(drawn > 0, f"the loss chart draws points ({drawn})")
        check(later > first, f"the loss chart's point count grows while the run trains ({first} -> {later})")
        with open(os.path.join(live_dir, "metrics.csv")) as f:
            on_disk = sum(1 for line in f if ",train," in line)
        check(later <= on_disk + 8, f"no point the run has not written ({later} shown, {on_disk} in metrics.csv)")

        # Heatmaps: R x R cells with the values of activations.jsonl at the step shown.
        driver.find_element(By.ID, "hungarian").click()  # the modules in their own order
        wait_for(lambda: attr("svg.heatmap[data-model=Modular]", "data-step"), 20, "the Modular heatmap")
        step, rules, cells = driver.execute_script(
            "const h = document.querySelector('svg.heatmap[data-model=Modular]');"
            "return [+h.dataset.step, +h.dataset.rules, [...h.querySelectorAll('rect.cell')]"
            ".map(c => [+c.dataset.rule, +c.dataset.module, +c.dataset.value])];")
        expected = activations(live_dir, "Modular", step)
        check(len(cells) == rules * rules, f"the heatmap has R x R = {rules * rules} cells ({len(cells)})")
        check(expected is not None and all(abs(v - expected[r - 1][m - 1]) < 1e-12 for r, m, v in cells),
              f"the heatmap's cells are activations.jsonl's p(module | rule) at step {step}")

        # Metric bars: the values of that evaluation in metrics.csv.
        bar_step, bars = driver.execute_script(
            "const s = document.querySelector('svg[data-testid=metric-bars]');"
            "return [+s.dataset.step, [...s.querySelectorAll('rect.bar')].map(b => [b.dataset.model, b.dataset.metric, +b.dataset.value])];")
        rows = last_evaluation_rows(live_dir, bar_step)
        keys = {"Collapse-Avg": "collapse_avg", "Collapse-Worst": "collapse_worst", "Alignment": "alignment",
                "Adaptation": "adaptation", "Inverse MI": "inverse_mi"}
        check(len(bars) == 15, f"5 metrics x 3 modular models = 15 bars ({len(bars)})")
        check(all(abs(v - rows[(model, keys[metric])]) < 1e-12 for model, metric, v in bars),
              f"the metric bars are metrics.csv's values at step {bar_step}")
        errors = console_errors()
        check(not errors, f"no console error on the run page: {errors[:3]}")

        # Downloads on a finished run: the CSV is the server's (the app's own CSV, tst_web_server),
        # the PNG a PNG, the SVG an SVG.
        driver.get(base + "/run/finished-seed0")
        wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "svg[data-testid=loss-chart]"), 20, "the finished run's chart")
        driver.find_element(By.CSS_SELECTOR, "a[data-csv=loss-chart]").click()
        path = os.path.join(downloads, "loss-chart.csv")
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 20, "the CSV download")
        served = urllib.request.urlopen(base + "/api/run/finished-seed0/loss.csv").read()
        with open(path, "rb") as f:
            downloaded = f.read()
        check(downloaded == served and downloaded.startswith(b"step,model,series,value\n"), "the CSV download is the run's loss CSV")
        train_rows = [l for l in downloaded.decode().splitlines() if ",train_loss," in l]
        check(len(train_rows) == 4 * 600, f"every training point of the 4 models is in it ({len(train_rows)})")
        for button, name, magic in (("PNG", "loss-chart.png", b"\x89PNG"), ("SVG", "loss-chart.svg", b"<svg")):
            driver.execute_script("[...document.querySelectorAll('.card')][0].querySelectorAll('button')"
                                  ".forEach(b => { if (b.textContent === arguments[0]) b.click(); });", button)
            p = os.path.join(downloads, name)
            wait_for(lambda: os.path.exists(p) and os.path.getsize(p) > 0, 20, f"the {button} download")
            with open(p, "rb") as f:
                check(f.read(4) == magic[:4], f"the {button} download is a {button}")

        # Every page, as a person sees it.
        pages = {"runs": "/", "run-live": "/run/live", "run-finished": "/run/finished-seed0", "sweep": "/sweep/sweep-tiny",
                 "compare": "/compare?run=finished-seed0&run=finished-seed1"}
        sizes = [("1280x720", 1280, 720, 1), ("1920x1080-projector", 1920, 1080, 1.5), ("390x844-phone", 390, 844, 1)]
        for name, path in pages.items():
            for size, w, h, scale in sizes:
                for theme in ("light", "dark"):
                    driver.set_window_size(w, h)
                    driver.get(f"{base}{path}{'&' if '?' in path else '?'}theme={theme}&scale={scale}")
                    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "main svg, main table"), 20, f"{name} content")
                    time.sleep(1.0)
                    width = driver.execute_script("return document.documentElement.scrollWidth")
                    check(width <= w + 1, f"{name} at {size} ({theme}) fits its width ({width} px)")
                    full = driver.execute_script("return document.documentElement.scrollHeight")
                    driver.set_window_size(w, max(h, min(full, 6000)))
                    time.sleep(0.4)
                    driver.save_screenshot(os.path.join(SHOTS, f"{name}-{size}-{theme}.png"))
            errors = console_errors()
            check(not errors, f"no console error on the {name} page: {errors[:3]}")
    finally:
        driver.quit()

    # The server is still serving, and refused nothing the page asked for.
    check(urllib.request.urlopen(base + "/api/runs").status == 200, "the server still serves")
finally:
    for p in processes:
        p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)

print(f"screenshots in {SHOTS}")
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all browser checks passed")
