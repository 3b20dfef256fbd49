"""The GPU status widget: memory and processes through NVML, the slots and the queue, a plain message on CPU."""
import json
import os
import sys
import types

from helpers.workshop.status import gpu_status, gpu_status_html, gpu_status_widget


def _fake_nvml(monkeypatch, processes):
    class Err(Exception):
        pass

    mem = types.SimpleNamespace(total=80 * 10**9, used=30 * 10**9, free=50 * 10**9)
    calls = []
    fake = types.SimpleNamespace(
        NVMLError=Err, nvmlInit=lambda: calls.append("init"), nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlDeviceGetCount=lambda: 1, nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetMemoryInfo=lambda h: mem, nvmlDeviceGetName=lambda h: b"NVIDIA A100-SXM4-80GB",
        nvmlDeviceGetComputeRunningProcesses=lambda h: processes)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return calls



def test_gpu_status_reads_memory_and_processes_through_nvml(monkeypatch, tmp_path):
    me = types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=6 * 10**9)
    gone = types.SimpleNamespace(pid=999999, usedGpuMemory=None)
    calls = _fake_nvml(monkeypatch, [me, gone])
    gpus, reason = gpu_status()
    assert reason == "" and calls == ["init", "shutdown"]
    (gpu,) = gpus
    assert (gpu.name, gpu.total, gpu.used, gpu.free) == ("NVIDIA A100-SXM4-80GB", 80 * 10**9, 30 * 10**9, 50 * 10**9)
    assert [p["pid"] for p in gpu.processes] == [os.getpid(), 999999]
    assert "python" in gpu.processes[0]["name"] and gpu.processes[1]["name"] == "?"
    page = gpu_status_html(gpus)
    assert "total 80.0 GB, used 30.0 GB, free 50.0 GB" in page and "6.0 GB" in page and "n/a" in page



def test_gpu_status_on_cpu_is_a_plain_message_and_the_widget_refreshes(monkeypatch, tmp_path):
    gpus, reason = gpu_status()  # this machine has no NVIDIA driver
    assert gpus == [] and "No NVIDIA GPU here" in reason and "CPU" in reason
    (tmp_path / "slot-0.json").write_text(json.dumps({"participant": "ada", "pid": os.getpid(),
                                                       "host": os.uname().nodename}))
    box = gpu_status_widget(str(tmp_path))
    view, button = box.children
    assert "No NVIDIA GPU here" in view.value and "slot 1: ada" in view.value and "Waiting: nobody" in view.value
    _fake_nvml(monkeypatch, [])
    button.click()
    assert "NVIDIA A100" in view.value and "no processes" in view.value


def test_the_status_survives_stray_files_in_the_lock_folder(tmp_path):
    here = os.uname().nodename
    (tmp_path / "queue").mkdir()
    (tmp_path / "slot-0.json").write_text("[1, 2]")
    (tmp_path / "slot-1.json").write_text(json.dumps({"participant": "x", "pid": "abc", "host": here}))
    (tmp_path / "slot-2.json").write_text(json.dumps({"participant": "<b>y</b>", "pid": 10**30, "host": here}))
    (tmp_path / "slot-3.json").write_text(json.dumps({"participant": "<b>ada</b>", "pid": os.getpid(), "host": here}))
    (tmp_path / "queue" / "1.json").write_text('"a string"')
    page = gpu_status_html([], "no GPU", lock_dir=str(tmp_path))
    assert "slot 4: &lt;b&gt;ada&lt;/b&gt;" in page and "Waiting: nobody" in page and "<b>" not in page
    view, _ = gpu_status_widget(str(tmp_path)).children
    assert "slot 4: &lt;b&gt;ada&lt;/b&gt;" in view.value
