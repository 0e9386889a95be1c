"""The ``batchmake`` module: Condor DAGs and jobs of BatchMake tasks (§4.13)."""

from typing import Any

from pydas.testing.answers import ApiError
from pydas.testing.backend import Row
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import module_require

__all__ = []


def _owned_task(ctx: Context, task_id: str, what: str) -> Row:
    user = ctx.user()
    if user is None:
        raise ApiError(-151, f"Anonymous users may not add condor {what}")
    task = ctx.backend.batchmake.task(as_int(task_id))
    if task is None:
        raise ApiError(-150, "Invalid batchmaketaskid specified")
    if task["user_id"] != user["user_id"]:
        raise ApiError(-151, "You are not the owner of this batchmake task")
    return task


@module_method("batchmake", "add.condor.dag")
def batchmake_add_condor_dag(ctx: Context) -> Any:
    """Add a Condor DAG to a BatchMake task."""
    task_id, dag_filename, out_filename = module_require(ctx, "batchmaketaskid",
                                                         "dagfilename", "outfilename")
    task = _owned_task(ctx, task_id, "dags")
    dag_id = ctx.backend.batchmake.add_dag(task["batchmake_task_id"], dag_filename,
                                           out_filename)
    return {"condor_dag_id": dag_id, "batchmake_task_id": task["batchmake_task_id"],
            "out_filename": out_filename, "dag_filename": dag_filename}


@module_method("batchmake", "add.condor.job")
def batchmake_add_condor_job(ctx: Context) -> Any:
    """Attach a Condor job to the first DAG of a BatchMake task."""
    names = ("batchmaketaskid", "jobdefinitionfilename", "outputfilename", "errorfilename",
             "logfilename", "postfilename")
    values = dict(zip(names, module_require(ctx, *names)))
    task = _owned_task(ctx, values["batchmaketaskid"], "jobs")
    batchmake = ctx.backend.batchmake
    dag_id = batchmake.first_dag(task["batchmake_task_id"])
    if dag_id is None:
        raise ApiError(-150, "There is no condor dag for this batchmaketaskid")
    job = {
        "jobdefinition_filename": values["jobdefinitionfilename"],
        "output_filename": values["outputfilename"],
        "error_filename": values["errorfilename"],
        "log_filename": values["logfilename"],
        "post_filename": values["postfilename"],
    }
    job_id = batchmake.add_job(dag_id, **job)
    return {"condor_job_id": job_id, "condor_dag_id": dag_id, **job}
