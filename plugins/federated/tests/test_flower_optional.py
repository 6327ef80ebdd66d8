"""flwr is optional: without it the in-process path works and the Flower path names the extra to install."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_flower_path_without_flwr_names_the_extra(monkeypatch, digits):
    import fischer_sc_federated as pkg

    # Hide flwr (None in sys.modules makes `import flwr...` raise ImportError) and forget our Flower modules.
    for name in list(sys.modules):
        if name == "flwr" or name.startswith("flwr."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "flwr", None)
    for mod in ("fischer_sc_federated.flower", "fischer_sc_federated.flower_sim"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    for attr in ("run_flower_simulation", "FedDCStrategy", "make_client_app", "make_server_app"):
        monkeypatch.delitem(pkg.__dict__, attr, raising=False)
    for attr in ("FedDCStrategy", "make_client_app", "run_flower_simulation"):
        with pytest.raises(ImportError, match=r"fischer-sc-federated\[flower\]"):
            getattr(pkg, attr)
    with pytest.raises(ImportError, match=r"fischer-sc-federated\[flower\]"):
        importlib.import_module("fischer_sc_federated.flower")
    # The in-process simulator does not need Flower.
    Xtr, _, ytr, _ = digits
    res = pkg.feddc(lambda: pkg.mlp(64, 10), pkg.split_clients(Xtr, ytr, 4, 2), rounds=2, agg_period=2)
    assert res.history["round"].tolist() == [2]
