"""Background imports: a file too large for the web request, read by the worker with its
progress written as it goes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .. import clock
from ..exceptions import ValuesError
from ..models import Campaign, ImportJob, ImportStatus
from .readers import UnreadableFile, read_file

#: Files up to this size are imported within the web request; larger ones by the worker.
INLINE_LIMIT = 256 * 1024
PROGRESS_EVERY = 20_000


def run_import(job_id: int) -> None:
    """Import one queued job, writing its progress as it goes. Claimed atomically."""

    if not ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING):
        return  # another worker took it
    job = ImportJob.objects.get(pk=job_id)
    campaign = Campaign.objects.get(pk=job.campaign_id)
    try:
        numbers = read_file(job.filename, bytes(job.data))
        result = campaign.add_recipients(_progress(numbers, job))
    except ValuesError as refused:  # nothing was stored: the rows to correct, with their lines
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            message=refused.message,
            invalid_count=refused.count,
            invalid=ImportJob.invalid_text(refused.rows),
            finished_at=clock.now(),
        )
        return
    except (UnreadableFile, ValueError) as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=str(error), finished_at=clock.now()
        )
        return
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE,
        added=result.added,
        duplicates=result.duplicates,
        invalid_count=result.invalid_count,
        invalid=ImportJob.invalid_text(result.invalid),  # the first MAX_INVALID_KEPT
        message=numbers.note,
        data=b"",
        finished_at=clock.now(),
    )


def _progress(entries: Iterable[str], job: ImportJob) -> Iterator[str]:
    count = 0
    for entry in entries:
        count += 1
        if count % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed=count)
        yield entry
    ImportJob.objects.filter(pk=job.pk).update(processed=count)


def run_queued_imports() -> int:
    ids = list(ImportJob.objects.filter(status=ImportStatus.QUEUED).values_list("id", flat=True))
    for job_id in ids:
        run_import(job_id)
    return len(ids)
