"""Submitting through AzureMLBackend to a fake MLClient that validates like the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from visionkit.azureml.submit import AzureMLBackend, find_model_folder
from visionkit.azureml.testing import FakeJob, FakeMLClient
from visionkit.cli import main

pytest.importorskip("azure.ai.ml")


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("specs")
    result = CliRunner().invoke(main, ["train", "--backend", "azureml", "--dry-run", "--out",
                                       str(out), "--epochs", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _model_output(job: FakeJob, folder: Path) -> None:
    (folder / "best").mkdir(parents=True)
    (folder / "best" / "config.json").write_text("{}")


def _backend(client: FakeMLClient) -> AzureMLBackend:
    return AzureMLBackend(client, poll_s=0.0, sleep=lambda _: None)


def test_a_training_job_is_submitted_followed_and_its_model_downloaded(
    specs: Path, tmp_path: Path
) -> None:
    client = FakeMLClient(outputs=_model_output, polls_to_finish=3)
    backend = _backend(client)
    seen: list[str] = []
    name = backend.submit(backend.load(specs / "train-job.yml"), experiment="visionkit")
    finished = backend.wait(name, on_poll=seen.append)
    assert finished.status == "Completed"
    assert seen == ["Running", "Running"]
    assert client.experiments[name] == "visionkit"
    model = find_model_folder(backend.download(name, tmp_path / "dl"))
    assert model == tmp_path / "dl" / "named-outputs" / "run" / "best"


def test_run_submits_waits_and_names_a_failed_job(specs: Path) -> None:
    from visionkit.azureml import AzureMLError

    seen: list[str] = []
    finished = _backend(FakeMLClient(polls_to_finish=2)).run(
        specs / "train-job.yml", experiment="visionkit", on_poll=seen.append
    )
    assert (finished.status, seen) == ("Completed", ["submitted", "Running"])
    client = FakeMLClient(polls_to_finish=1)
    client.outcome = "Failed"
    with pytest.raises(AzureMLError, match=r"fake-job-1 Failed: https://ml\.azure\.com/runs/"):
        _backend(client).run(specs / "train-job.yml")


def test_the_sweep_job_is_accepted_too(specs: Path) -> None:
    backend = _backend(FakeMLClient())
    name = backend.submit(backend.load(specs / "sweep-job.yml"))
    assert backend.wait(name).status == "Completed"


def test_the_fake_refuses_what_the_service_would(specs: Path) -> None:
    backend = _backend(FakeMLClient())
    with pytest.raises(TypeError, match="azure.ai.ml Job"):
        backend.submit({"type": "command", "command": "visionkit train"})
    job = backend.load(specs / "train-job.yml")
    job.code = str(specs / "no-such-folder")
    with pytest.raises(ValueError, match="does not validate|code folder"):
        backend.submit(job)


def test_stopping_the_wait_cancels_the_azure_job(specs: Path) -> None:
    client = FakeMLClient(polls_to_finish=100)
    backend = _backend(client)
    name = backend.submit(backend.load(specs / "train-job.yml"))

    def stop(status: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend.wait(name, on_poll=stop)
    assert client.cancelled == [name]


def test_a_model_folder_is_registered_as_a_custom_model(tmp_path: Path) -> None:
    client = FakeMLClient()
    (tmp_path / "config.json").write_text("{}")
    model = _backend(client).register_model(tmp_path, name="root-unet", tags={"job": "7"})
    assert model.type == "custom_model"
    assert client.models_registered == [model]
