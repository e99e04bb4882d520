import os, sys
from pathlib import Path
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
OFFLINE = Path(__file__).parent/'offline'
if str(OFFLINE) not in sys.path: sys.path.insert(0, str(OFFLINE))
import sitecustomize as offline_guard   # installs the guard in this process too (idempotent when PYTHONPATH already did)

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    "Fail any test that tries to reach a non-loopback address, even if the code under test swallowed the error."
    log = tmp_path/'net.log'
    monkeypatch.setattr(offline_guard, '_LOG', str(log))
    yield
    if log.exists() and log.read_text().strip():
        pytest.fail(f"test tried to use the network:\n{log.read_text()}")
