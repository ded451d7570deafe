#!/usr/bin/env bash
# Update this checkout to the template's latest release, on the branch template-update, for the
# scheduled CI job that proposes it (README.md, "Updating from the template").
#
# When a release is newer than the one .copier-answers.yml records, this commits the update on
# template-update and prints the commit's subject, which is also the title of the change to
# propose; the commit's body says which files hold conflict markers. Otherwise it prints
# nothing and changes nothing. Needs a clean working tree, git, python3 and uv.
set -euo pipefail

branch=template-update
# Lines that open or close a conflict: Copier's `<<<<<<< before updating` and `>>>>>>> after
# updating`, or git's. Not `=======`, which also underlines Markdown and reStructuredText titles.
markers='^(<<<<<<<|>>>>>>>)( |$)'
copier=(uvx --with copier-template-extensions copier)

# JSON, not prose: {"update_available": ..., "current_version": ..., "latest_version": ...}.
# A check that cannot tell (no answers file, the template unreachable) exits non-zero.
check=$("${copier[@]}" check-update --output-format json)
latest=$(python3 -c '
import json, sys
check = json.load(sys.stdin)
print(check["latest_version"] if check["update_available"] else "")
' <<<"$check")
if [[ -z $latest ]]; then
    echo "Up to date with the template: $check" >&2
    exit 0
fi

git switch --quiet --force-create "$branch"
# --trust: the template loads its own Jinja extensions and may run migrations that rewrite the
# recorded answers between releases; Copier runs neither without it. --defaults keeps every
# recorded answer and takes the default of a new question. --conflict inline writes both sides
# of a conflicting change into the file, between markers, for a person to resolve.
"${copier[@]}" update --trust --defaults --conflict inline >&2
# A changed pyproject.toml needs a new lock, or `uv sync --locked` and the image build refuse it.
uv lock >&2
git add --all

# git grep exits 1 when no file matches, 2 when it fails.
conflicted=$(git grep --files-with-matches -I -E "$markers" -- . || [[ $? == 1 ]])
if [[ -n $conflicted ]]; then
    mapfile -t files <<<"$conflicted"
    listed=$(printf ", \`%s\`" "${files[@]}")
    found="Conflict markers to resolve before merging: ${listed:2}."
else
    found="No file has conflict markers."
fi
title="Update from the template to $latest"
body="Made by \`copier update --trust --defaults --conflict inline\` and \`uv lock\`. $found"
git commit --quiet --message "$title" --message "$body"
echo "$title"
