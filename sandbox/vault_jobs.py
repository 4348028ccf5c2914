"""Asynchronous Vault jobs: deep copy (§5) and cascade delete (§8.2), job status and result files."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from sandbox.vault_schema import child_relations
from sandbox.vault_state import VaultError, err, now_iso

ACTIVE = ("QUEUED", "RUNNING")


@dataclass
class Job:
    id: int
    kind: str  # deepcopy | cascadedelete
    object: str
    record_id: str
    version: str
    status: str = "QUEUED"
    created_date: str = field(default_factory=now_iso)
    run_start_date: str | None = None
    run_end_date: str | None = None
    successes: list = field(default_factory=list)  # deepcopy: (line, vobject, source, target)
    failures: list = field(default_factory=list)  # (line, vobject, source, [errors])


class JobRunner:
    def __init__(self, app):
        self.app = app
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def state(self):
        return self.app.state

    @property
    def settings(self):
        return self.app.settings

    def shutdown(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    # -- submit --------------------------------------------------------------------------------
    def _new_job(self, kind, obj, rid, version) -> Job:
        with self.state.lock:
            job = Job(self.state.next_job_id, kind, obj, rid, version, created_date=self.state.now_iso())
            self.state.next_job_id += 1
            self.state.jobs[job.id] = job
        return job

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _descendants(self, obj, rid, *, hierarchical_only) -> list[tuple[str, str]]:
        """All (object, id) below obj/rid along parent-child relationships, breadth first."""
        out, queue = [], deque([(obj, rid)])
        while queue:
            pobj, pid = queue.popleft()
            for child_def, f in child_relations(self.state.schema, pobj, hierarchical_only=hierarchical_only):
                for cid in self.state.children_of(child_def.name, f.name, pid):
                    out.append((child_def.name, cid))
                    queue.append((child_def.name, cid))
        return out

    def _target(self, req, obj, rid):
        if obj not in self.state.schema or rid not in self.state.records[obj]:
            # §6: /actions endpoints answer INSUFFICIENT_ACCESS when the target does not exist.
            raise VaultError("INSUFFICIENT_ACCESS", f"Record [{rid}] not found or not accessible")

    def start_deep_copy(self, req, obj, rid):
        """§5.1: POST vobjects/{obj}/{id}/actions/deepcopy."""
        self._target(req, obj, rid)
        rows = req.rows()
        if len(rows) > 1:
            raise VaultError("INVALID_DATA", "Deep copy accepts at most one row of field overrides")
        with self.state.lock:
            related = len(self._descendants(obj, rid, hierarchical_only=True))
        if related > self.settings.deep_copy_max_related:
            # §11.6 [UNCONFIRMED] error for > 10,000 related records.
            raise VaultError(
                "OPERATION_NOT_ALLOWED",
                f"Deep copy is limited to {self.settings.deep_copy_max_related} related records; "
                f"this record has {related}",
            )
        job = self._new_job("deepcopy", obj, rid, req.version)
        self._spawn(self._run_deep_copy, job, rows[0] if rows else {})
        return {"responseStatus": "SUCCESS", "job_id": job.id, "url": f"/api/{req.version}/services/jobs/{job.id}"}

    def start_cascade_delete(self, req, obj, rid):
        """§8.2: POST vobjects/{obj}/{id}/actions/cascadedelete."""
        self._target(req, obj, rid)
        job = self._new_job("cascadedelete", obj, rid, req.version)
        self._spawn(self._run_cascade_delete, job)
        return {"responseStatus": "SUCCESS", "job_id": job.id, "url": f"/api/{req.version}/services/jobs/{job.id}"}

    # -- run -----------------------------------------------------------------------------------
    def _begin(self, job) -> bool:
        if self._stop.wait(self.settings.job_queue_seconds):
            return False
        job.status, job.run_start_date = "RUNNING", self.state.now_iso()
        return not self._stop.wait(self.settings.job_min_run_seconds)

    def _finish(self, job) -> None:
        job.run_end_date = self.state.now_iso()
        job.status = "ERRORS_ENCOUNTERED" if job.failures else "SUCCESS"

    def _run_deep_copy(self, job: Job, overrides: dict) -> None:
        if not self._begin(job):
            return
        st, schema = self.state, self.state.schema
        no_copy = self.settings.deep_copy_honour_no_copy
        line = 1
        with st.lock:
            source = st.records[job.object].get(job.record_id)
            if source is None:
                job.failures.append((1, job.object, job.record_id, [err("INVALID_DATA", "Source record was deleted")]))
                return self._finish(job)
            result = st.apply_row(
                schema[job.object], overrides, source=source, honour_no_copy=no_copy, version=job.version
            )
        if result["responseStatus"] == "FAILURE":
            job.failures.append((1, job.object, job.record_id, result["errors"]))
            return self._finish(job)
        job.successes.append((1, job.object, job.record_id, result["data"]["id"]))
        queue = deque([(job.object, job.record_id, result["data"]["id"])])
        while queue:
            pobj, src_parent, new_parent = queue.popleft()
            for child_def, f in child_relations(schema, pobj, hierarchical_only=True):
                # One lock hold per group of siblings keeps other requests responsive.
                with st.lock:
                    for cid in st.children_of(child_def.name, f.name, src_parent):
                        line += 1
                        child = st.records[child_def.name].get(cid)
                        if child is None:
                            continue
                        r = st.apply_row(
                            child_def, {f.name: new_parent}, source=child, honour_no_copy=no_copy, version=job.version
                        )
                        if r["responseStatus"] == "FAILURE":
                            job.failures.append((line, child_def.name, cid, r["errors"]))
                        else:
                            job.successes.append((line, child_def.name, cid, r["data"]["id"]))
                            queue.append((child_def.name, cid, r["data"]["id"]))
        self._finish(job)

    def _run_cascade_delete(self, job: Job) -> None:
        if not self._begin(job):
            return
        st = self.state
        with st.lock:
            if job.record_id not in st.records[job.object]:
                job.failures.append((1, job.object, job.record_id, [err("INVALID_DATA", "Record was deleted")]))
                return self._finish(job)
            doomed = [(job.object, job.record_id)] + self._descendants(
                job.object, job.record_id, hierarchical_only=False
            )
            ids = {rid for _, rid in doomed}
            for i, (obj, rid) in enumerate(doomed, start=1):
                outside = st.blocking_references(obj, rid, ignore=ids)
                if outside:
                    job.failures.append(
                        (
                            i,
                            obj,
                            rid,
                            [
                                err(
                                    "OPERATION_NOT_ALLOWED",
                                    f"{len(outside)} record(s) outside the hierarchy reference it",
                                )
                            ],
                        )
                    )
            if not job.failures:
                for obj, rid in reversed(doomed):  # children before parents
                    st.delete(obj, rid)
                    job.successes.append((0, obj, rid, None))
                job.successes.reverse()
        self._finish(job)

    # -- §5.2 status, §5.3 / §8.2 results ------------------------------------------------------
    def status(self, req, job_id):
        job_id = int(job_id)
        now = time.monotonic()
        with self.state.lock:
            job = self.state.jobs.get(job_id)
            if job is None:
                raise VaultError("INVALID_DATA", f"Job [{job_id}] does not exist")
            last = self.state.poll_times.get(job_id)
            if last is not None and now - last < self.settings.job_poll_interval:
                raise VaultError("API_LIMIT_EXCEEDED", "Too many polling requests")
            self.state.poll_times[job_id] = now
        data = {
            "id": job.id,
            "status": job.status,
            "method": "POST",
            "title": f"{'Deep copy' if job.kind == 'deepcopy' else 'Cascade delete'} of {job.object} {job.record_id}",
            "links": [
                {
                    "rel": "self",
                    "href": f"/api/{req.version}/services/jobs/{job.id}",
                    "method": "GET",
                    "accept": "application/json",
                }
            ],
            "created_by": self.state.api_user_id,
            "created_date": job.created_date,
        }
        if job.run_start_date:
            data["run_start_date"] = job.run_start_date
        if job.run_end_date:
            data["run_end_date"] = job.run_end_date
        return {"responseStatus": "SUCCESS", "responseMessage": "OK", "data": data}

    def results(self, req, obj, which, job_id):
        kind = "deepcopy" if req.path.startswith("vobjects/deepcopy/") else "cascadedelete"
        with self.state.lock:
            job = self.state.jobs.get(int(job_id))
        if job is None or job.kind != kind or job.object != obj:
            raise VaultError("INVALID_DATA", f"Job [{job_id}] does not exist for object [{obj}]")
        if job.status in ACTIVE:
            raise VaultError("OPERATION_IN_PROGRESS", f"Job [{job_id}] is still running")
        out = io.StringIO()
        writer = csv.writer(out)
        if which == "failure":
            writer.writerow(
                ["line number", "vobject", "sourceRecordId", "errors"]
                if kind == "deepcopy"
                else ["Source Object", "Record Id", "errors"]
            )
            for line, vobject, source, errors in job.failures:
                items = ",".join('"' + f"{e['type']}|{e['message']}".replace('"', '""') + '"' for e in errors)
                writer.writerow([line, vobject, source, items] if kind == "deepcopy" else [vobject, source, items])
        elif kind == "deepcopy":
            columns = list(self.settings.deepcopy_success_columns)
            writer.writerow(columns)
            for line, vobject, source, target in job.successes:
                values = {"line number": line, "vobject": vobject, "sourceRecordId": source, "targetRecordId": target}
                writer.writerow([values[c] for c in columns])
        else:
            writer.writerow(["Source Object", "Record Id"])
            for _, vobject, rid, _ in job.successes:
                writer.writerow([vobject, rid])
        return out.getvalue(), "text/csv;charset=UTF-8"
