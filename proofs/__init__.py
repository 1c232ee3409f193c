"""Checking: properties, plans, engines, verdicts, certificates, witnesses, reports, review and
the command line. The spine (properties, plan, job, check, verdict, cli ...) sits here; engines/,
certify/, witness/, report/ and review/ each hold one role (docs/architecture.md, "Layout")."""
