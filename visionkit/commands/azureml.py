"""``visionkit azureml batch SOURCE --out DIR [--dry-run]``: predict a Blob folder on Azure ML.

Writes ``DIR/batch-job.yml`` (a pipeline job whose ``predict`` step is a
parallel job over SOURCE in mini-batches, with
:mod:`visionkit.azureml.batch_entry` as its entry script) and the
environments, each checked with azure-ai-ml's loaders. Without
``--dry-run`` it submits the job, waits, and downloads the predictions
(the prediction contract's ``<stem>.json`` and masks) into ``DIR/predictions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from visionkit.azureml.config import AzureMLConfig
    from visionkit.azureml.submit import AzureMLBackend, Finished

__all__ = ["azureml", "run_echoing"]


@click.group()
def azureml() -> None:
    """Azure Machine Learning jobs (training is `visionkit train --backend azureml`)."""


@azureml.command()
@click.argument("source")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the specs (and the downloaded predictions).")  # fmt: skip
@click.option("--model", default="azureml:root-unet@latest", show_default=True,
              help="Registered model (azureml:NAME:VERSION) or a model folder URI.")  # fmt: skip
@click.option("--output", default=None, help="Where predictions go in Blob [default: Azure ML's].")
@click.option("--mini-batch-size", type=click.IntRange(min=1), default=10, show_default=True,
              help="Plates per call of the entry script's run().")  # fmt: skip
@click.option("--calibration", default=None, help="Calibration preset or file in the snapshot.")
@click.option("--compute", default=None, help="Cluster [default: VISIONKIT_AZUREML_COMPUTE].")
@click.option("--vm-size", default=None, help="Its VM size [default: VISIONKIT_AZUREML_VM_SIZE].")
@click.option("--nodes", type=click.IntRange(min=1), default=None, help="Nodes.")
@click.option("--environment", default="docker", show_default=True,
              help="docker, conda, or azureml:NAME:VERSION.")  # fmt: skip
@click.option("--code", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder to snapshot [default: this checkout].")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Write and check the specs; submit nothing.")
def batch(
    source: str,
    out_dir: Path,
    model: str,
    output: str | None,
    mini_batch_size: int,
    calibration: str | None,
    compute: str | None,
    vm_size: str | None,
    nodes: int | None,
    environment: str,
    code: Path | None,
    dry_run: bool,
) -> None:
    """Predict every plate in SOURCE (a Blob URL, datastore path or data asset) on Azure ML."""
    from visionkit.azureml.config import AzureMLConfig, ml_client
    from visionkit.azureml.files import write_specs
    from visionkit.azureml.plan import BATCH_JOB_FILE, batch_files
    from visionkit.azureml.submit import AzureMLBackend

    config = AzureMLConfig.from_env().with_options(compute=compute, vm_size=vm_size, nodes=nodes)
    extra = ["--calibration", calibration] if calibration else []
    files = batch_files(out_dir, plates=source, model=model, config=config, output=output,
                        environment=environment, code=code, mini_batch_size=mini_batch_size,
                        extra_arguments=extra)  # fmt: skip
    written = write_specs(out_dir, files)
    click.echo(f"wrote {', '.join(str(path) for path in written)}")
    if dry_run:
        click.echo(f"dry run: nothing submitted. Submit with: az ml job create --file "
                   f"{out_dir / BATCH_JOB_FILE}")  # fmt: skip
        return
    backend = AzureMLBackend(ml_client(config))
    finished = run_echoing(backend, out_dir / BATCH_JOB_FILE, config)
    folder = backend.download(finished.name, out_dir / "predictions", output="predictions")
    click.echo(f"predictions: {folder}")


def run_echoing(backend: AzureMLBackend, spec: Path, config: AzureMLConfig) -> Finished:
    """Submit ``spec``, echo its status until it ends; a failed job is a click error."""
    from visionkit.azureml import AzureMLError

    try:
        return backend.run(
            spec, experiment=config.experiment,
            on_poll=lambda status: click.echo(f"  {spec.name} on {config.describe()}: {status}"),
        )  # fmt: skip
    except AzureMLError as exc:
        raise click.ClickException(str(exc)) from exc
