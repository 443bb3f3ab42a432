"""A load test's figures, and the text `manage.py loadtest` prints."""


def problems(report):
    """What makes the run a failure: errors, a locked database, generations lost or failed."""
    found = []
    if report["errors"]:
        found.append(f"{report['errors']} request errors")
    if report["database_locked"]:
        found.append(f"{report['database_locked']} 'database is locked' log lines")
    database = report.get("database")
    if database:
        unfinished = database["in_database"] - sum(database["by_status"].get(s, 0) for s in ("completed", "failed"))
        if database["by_status"].get("failed") or unfinished:
            found.append(f"generations: {database['by_status']}")
        if database["in_database"] != report["generations"]["submitted"]:
            found.append(f"{report['generations']['submitted']} generations submitted, "
                         f"{database['in_database']} in the database")
        if database["images_stored"] != database["images_asked"]:
            found.append(f"{database['images_stored']} of {database['images_asked']} images stored")
    return found


def text(report):
    lines = [
        f"Load test: {report['users']} people in teams of {report['team_size']}, {report['seconds']} s "
        f"against {report['target']}",
        f"Requests: {report['requests']} in {report['seconds']} s = {report['rps']} per second; "
        f"errors: {report['errors']}",
        "",
        f"{'endpoint':<34}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}",
    ]
    for row in report["endpoints"]:
        lines.append(f"{row['name']:<34}{row['requests']:>9}{row['p50_ms']:>9}{row['p95_ms']:>9}"
                     f"{row['max_ms']:>9}{row['failures']:>8}")
    generations = report["generations"]
    seen = generations["submit_to_result_on_page_s"]
    lines += [
        "",
        f"Generations submitted: {generations['submitted']}; seen finished on the page: "
        f"{generations['finished_by_status']}; still running when the users stopped: "
        f"{generations['seen_running_at_end']}",
        f"  Generate to result on the page: p50 {seen.get('p50')} s, p95 {seen.get('p95')} s, max {seen.get('max')} s",
    ]
    database = report.get("database")
    if database:
        created = database["created_to_finished_s"]
        lines += [
            f"  In the database once settled: {database['in_database']}, {database['by_status']}; images stored "
            f"{database['images_stored']} of {database['images_asked']}",
            f"  Created to finished (database): p50 {created.get('p50')} s, p95 {created.get('p95')} s, "
            f"max {created.get('max')} s",
        ]
    locked = report["database_locked_by_log"]
    lines.append("")
    lines.append(f"'database is locked' in the logs: {report['database_locked']} "
                 + (f"({', '.join(f'{name} {count}' for name, count in locked.items())})" if locked
                    else "(no logs checked)"))
    if report["error_lines_by_log"]:
        lines.append("Lines with ERROR or Traceback in the logs: "
                     + ", ".join(f"{name} {count}" for name, count in report["error_lines_by_log"].items()))
    for line in report["error_line_samples"]:
        lines.append(f"  {line[:300]}")
    for error in report["error_messages"]:
        lines.append(f"  error: {error['name']}: {error['error']} ({error['count']} times)")
    return "\n".join(lines)
