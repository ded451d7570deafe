"""Take the template's defaults out of a project's `.env` (copier.yml, `_migrations`, 0.2.0).

Before 0.2.0, `.env` was rendered as a copy of `.env.example`, so it pinned values that the
answers decide, such as the SQLite DATABASE_URL, and a later `-d database=postgresql` left the
service on the old driver. A line of `.env` that is exactly a line of the previous render's
`.env.example` (a setting, its comment or a blank line) is the template's, not the user's
choice: it is removed, and the settings class supplies the default that follows the answers.
SECRET_KEY and every line the user changed or added stay.

    python tidy_env.py
"""

import subprocess
from pathlib import Path

ENV_FILE = Path(".env")


def previous_example() -> set[str]:
    """The lines of `.env.example` as the project last committed it."""
    shown = subprocess.run(
        ["git", "show", "HEAD:.env.example"], capture_output=True, text=True, check=False
    )
    return set(shown.stdout.splitlines())


def main() -> None:
    if not ENV_FILE.exists():
        return
    defaults = previous_example()
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [
        line
        for line in lines
        if line.rstrip("\n") not in defaults or line.startswith("SECRET_KEY=")
    ]
    if kept != lines:
        ENV_FILE.write_text("".join(kept), encoding="utf-8")
        removed = len(lines) - len(kept)
        print(f".env: removed {removed} line(s) that repeated the template's .env.example.")


if __name__ == "__main__":
    main()
