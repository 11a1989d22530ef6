"""Background work: one set of plain job functions, two engines to run them.

The jobs (``registry``) are functions of the runtime and the time: look for due governance
scans, scan one tenant, purge expired reports. Nothing in them knows what runs them.

- **In-process** (``TUTELA_JOB_BACKEND=inprocess``, the embedded default): the API process runs
  them on a timer (``inprocess.Scheduler``), scanning due tenants one after another. Several API
  processes on one PostgreSQL may all run it: each tenant's lease lets only one of them scan.
- **Celery** (``TUTELA_JOB_BACKEND=celery``): ``tutela beat`` sends the periodic jobs to the
  Redis broker; ``tutela worker`` processes run them. Looking for due scans fans out one task
  per tenant, so any number of workers share the scans; the lease again keeps each to one.

``tutela jobs run-due`` runs the periodic jobs once in the current process (for cron users, and
to test a schedule with ``--now``); ``tutela jobs status`` shows each job's last run and, with
Celery, the queue's depth.
"""
