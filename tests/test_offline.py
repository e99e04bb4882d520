"The offline guarantee: the guard blocks the network, and Colab-track names fail fast with the laptop alternative."
import socket, time, subprocess, sys, os
import pytest
from tl_course.zoo import load, HubUnavailable, hub_available, HUB_MODELS
from tl_course.data import torchvision_dataset, hf_dataset, DatasetUnavailable
import sitecustomize as guard

def test_guard_blocks_non_loopback(monkeypatch, tmp_path):
    log = tmp_path/'own.log'
    monkeypatch.setattr(guard, '_LOG', str(log))
    with pytest.raises(OSError, match='offline guard'): socket.create_connection(('93.184.216.34', 443), timeout=1)
    with pytest.raises(OSError, match='offline guard'): socket.getaddrinfo('huggingface.co', 443)
    assert 'huggingface.co' in log.read_text()

def test_guard_allows_loopback():
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=1)
    c.close(); srv.close()

def test_guard_is_active_in_subprocesses_via_pythonpath():
    env = {**os.environ, 'PYTHONPATH': str(guard.__file__).rsplit('/', 1)[0], 'TL_COURSE_NET_LOG': ''}
    code = "import socket\ntry: socket.getaddrinfo('pypi.org', 443)\nexcept OSError as e: print(e)"
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True).stdout
    assert 'offline guard' in out

@pytest.mark.parametrize('name', sorted(HUB_MODELS))
def test_hub_models_fail_fast_naming_laptop_alternative(name):
    alt = HUB_MODELS[name][2].split(',')[0]
    t = time.time()
    with pytest.raises(HubUnavailable, match=f"load\\('{alt}'\\)"): load(name)
    assert time.time() - t < 2

def test_hub_check_without_offline_env_fails_fast_and_cleanly(monkeypatch):
    "With the offline variables unset, the probe itself meets the guard (a closed network) and answers False."
    for v in ('HF_HUB_OFFLINE', 'TL_COURSE_OFFLINE', 'TRANSFORMERS_OFFLINE'): monkeypatch.delenv(v, raising=False)
    monkeypatch.setattr(guard, '_LOG', None)
    t = time.time()
    assert hub_available('huggingface.co', timeout=1) is False
    with pytest.raises(HubUnavailable, match="load\\('minilm'\\)"): load('bert-base-uncased')
    assert time.time() - t < 3

def test_unknown_model_lists_both_tracks():
    with pytest.raises(KeyError, match="Laptop track \\(offline\\).*Colab track"): load('resnet5O')

def test_datasets_fail_fast(tmp_path):
    with pytest.raises(DatasetUnavailable, match='digits8x8'): torchvision_dataset('USPS', root=str(tmp_path))
    with pytest.raises(DatasetUnavailable, match='rotten_tomatoes'): hf_dataset('sst2')
