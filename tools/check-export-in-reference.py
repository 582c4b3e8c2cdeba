#!/usr/bin/env python3
"""Loads what 'modlab-cli export-reference' wrote into the authors' own classes, strictly.

usage: check-export-in-reference.py REFERENCE_DIR EXPORT_DIR
  REFERENCE_DIR: laid out by ../shared/tools/reference-setup; EXPORT_DIR: export-reference's --out.
Prints one line per model; exits 1 if any does not load with load_state_dict(strict=True).
"""
import glob
import importlib.util
import json
import os
import sys

import torch

ref, exported = sys.argv[1], sys.argv[2]
failed = 0
for info_path in sorted(glob.glob(os.path.join(exported, "*", "reference.json"))):
    info = json.load(open(info_path))
    spec = importlib.util.spec_from_file_location("ref_model", os.path.join(ref, info["model_py"]))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = eval(info["constructor"], vars(module))
    state = torch.load(os.path.join(os.path.dirname(info_path), f"model_{info['checkpoint']}.pt"))
    try:
        model.load_state_dict(state, strict=True)
        print(f"{info['variant']}: loads into {info['model_py']} {info['constructor']} (strict)")
    except Exception as e:  # noqa: BLE001 - report every model
        failed += 1
        print(f"{info['variant']}: FAILED: {e}")
sys.exit(1 if failed else 0)
