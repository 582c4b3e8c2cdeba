#!/usr/bin/env python3
"""Parity fixtures made once with the authors' own classes (issue 27), for tst_reference_parity.

usage: make-reference-fixtures.py REFERENCE_DIR OUT_DIR
  REFERENCE_DIR: laid out by ../shared/tools/reference-setup (their model.py per setting and task;
  their code is imported from there, never copied into the project).

For each setting x task x family it writes OUT_DIR/<setting>-<task>-<family>.pt (torch.save):
  state_dict  the authors' model's weights (seeded), as their scripts save model_best.pt
  x, y        a fixed input batch with its rule context, and its labels
  out, score  the reference's outputs and routing scores (score absent for Monolithic)
  loss        their criterion (BCEWithLogits for classification, L1 for regression)
  grad_norms  the L2 norm of every parameter's gradient after loss.backward(), by name
  config      what the model was built with (rules, encoder_dim, dim, ...)
The three settings, both tasks, the four families.
"""
import importlib.util
import itertools
import os
import sys

import numpy as np
import torch

ref, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def load_module(setting, task, name):
    path = os.path.join(ref, setting, task, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"ref_{name}_{setting}_{task}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mlp_cases():
    rules, encoder_dim, dim, batch = 4, 8, 16, 8
    for task in ("Classification", "Regression"):
        m = load_module("MLP", task, "model")
        families = {
            "Monolithic": lambda: m.Monolithic(rules, encoder_dim, dim),
            "Modular": lambda: m.Modular(rules, encoder_dim, dim, rules, op=False, joint=True),
            "Modular-op": lambda: m.Modular(rules, encoder_dim, dim, rules, op=True, joint=False),
            "GT-Modular": lambda: m.GT_Modular(rules, encoder_dim, dim, rules),
        }
        for family, make in families.items():
            torch.manual_seed(1234)
            model = make()
            rng = np.random.RandomState(7)
            a, b = rng.randn(batch, 1), rng.randn(batch, 1)
            rule = rng.randint(0, rules, size=batch)
            onehot = np.zeros((batch, rules))
            onehot[np.arange(batch), rule] = 1.0
            x = torch.tensor(np.concatenate((a, b, onehot), axis=-1), dtype=torch.float32)
            if task == "Classification":
                y = torch.tensor((rng.randn(batch) > 0).astype(np.float32))
                criterion = torch.nn.BCEWithLogitsLoss()
            else:
                y = torch.tensor(rng.randn(batch).astype(np.float32))
                criterion = torch.nn.L1Loss()
            yield "mlp", task.lower(), family, model, x, y, criterion, {
                "rules": rules, "encoder_dim": encoder_dim, "dim": dim}


def mha_cases():
    rules, dim, att_dim, batch, length = 4, 16, 64, 4, 5
    for task in ("Classification", "Regression"):
        m = load_module("MHA", task, "model")
        data = load_module("MHA", task, "data")
        families = {  # two heads per rule, as the paper's runs (Monolithic: all 2R in one)
            "Monolithic": lambda: m.Model(dim, att_dim, 2 * rules, 5 * rules, "Monolithic", rules),
            "Modular": lambda: m.Model(dim, att_dim, 2, 5 * rules, "Modular", rules, op=False),
            "Modular-op": lambda: m.Model(dim, att_dim, 2, 5 * rules, "Modular", rules, op=True),
            "GT-Modular": lambda: m.Model(dim, att_dim, 2, 5 * rules, "GT_Modular", rules),
        }
        for family, make in families.items():
            torch.manual_seed(1234)
            model = make()
            np.random.seed(7)
            samples, labels, rule = data.rules(batch, length, rules, 2, 1, data_seed=0)
            x = torch.tensor(samples, dtype=torch.float32)
            y = torch.tensor(labels, dtype=torch.float32)
            op = torch.tensor(rule, dtype=torch.float32)
            criterion = torch.nn.BCEWithLogitsLoss() if task == "Classification" else torch.nn.L1Loss()
            yield "mha", task.lower(), family, (lambda model=model, op=op: (lambda inputs: model(inputs, op)))(), model, x, y, criterion, {
                "rules": rules, "dim": dim, "att_dim": att_dim}


def rnn_cases():
    rules, d, enc_dim, hid_dim, batch, length = 4, 8, 16, 64, 4, 5
    for task in ("Classification", "Regression"):
        m = load_module("RNN", task, "model")
        data = load_module("RNN", task, "data")
        out_dim = 1 if task == "Classification" else d
        families = {
            "Monolithic": lambda: m.Model(d + rules, enc_dim, hid_dim, out_dim, rules, "Monolithic"),
            "Modular": lambda: m.Model(d + rules, enc_dim, hid_dim, out_dim, rules, "Modular", op=False),
            "Modular-op": lambda: m.Model(d + rules, enc_dim, hid_dim, out_dim, rules, "Modular", op=True),
            "GT-Modular": lambda: m.Model(d + rules, enc_dim, hid_dim, out_dim, rules, "GT_Modular"),
        }
        for family, make in families.items():
            torch.manual_seed(1234)
            model = make()
            np.random.seed(7)
            samples, labels, rule = data.rules(batch, length, rules, 1, d, data_seed=0)
            x = torch.tensor(samples, dtype=torch.float32)
            y = torch.tensor(labels, dtype=torch.float32)
            op = torch.tensor(rule, dtype=torch.float32)
            criterion = torch.nn.BCEWithLogitsLoss() if task == "Classification" else torch.nn.L1Loss()
            yield "rnn", task.lower(), family, (lambda model=model, op=op: (lambda inputs: model(inputs, op)))(), model, x, y, criterion, {
                "rules": rules, "enc_dim": enc_dim, "hid_dim": hid_dim, "d": d}


def as_cases(cases):
    for setting, task, family, model, x, y, criterion, config in cases:
        yield setting, task, family, model, model, x, y, criterion, config


for setting, task, family, forward, model, x, y, criterion, config in itertools.chain(as_cases(mlp_cases()), mha_cases(), rnn_cases()):
    model.zero_grad()
    prediction, score = forward(x)
    loss = criterion(prediction, y)
    loss.backward()
    fixture = {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "x": x, "y": y,
        "out": prediction.detach().clone(),
        "loss": loss.detach().clone(),
        "grad_norms": {k: p.grad.detach().norm() for k, p in model.named_parameters() if p.grad is not None},
        "config": {k: torch.tensor(v) for k, v in config.items()},
    }
    if score is not None:
        fixture["score"] = score.detach().clone().reshape(*x.shape[:-1], -1)  # (..., R)
    # Checked here, once: the weights load back into the authors' class strictly.
    model.load_state_dict(fixture["state_dict"], strict=True)
    path = os.path.join(out, f"{setting}-{task}-{family}.pt")
    torch.save(fixture, path)
    print(f"{path}: loss {loss.item():.6f}, {len(fixture['state_dict'])} tensors")
