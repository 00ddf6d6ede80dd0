"""Runs the README's marked snippets exactly as printed, top to bottom, against a server
on localhost:4599, as a reader following the README would.

A snippet is the fenced block after a `<!-- ci: KIND -->` line:
  env             shell lines every other snippet runs after (the exported variables)
  sh              run with bash, after the env snippet
  python          run with this script's Python interpreter, after the env snippet
  node FILE       written to FILE and run with node, after the env snippet
  file FILE       written to FILE only (a later snippet runs it)
  pytest FILE     a test file for the pytest plugin (see --pytest)
  python-package  a script that uses the Python package (see --pytest)

Shell and node snippets run in the directory given as the first argument (where
`@aws-sdk/client-appstream` is installed). The state is reset once, before the first
snippet; after that each runs on what the ones before it left, so no two may clash.

With `--pytest DIR`, nothing runs: each `pytest FILE` snippet is written to DIR/FILE as
printed, and each `python-package` snippet becomes a test function (its lines indented
under a `def`) in DIR/test_readme_scripts.py, for the plugin's test run to include.

Usage: python3 readme_snippets.py NODE_DIR [README]
       python3 readme_snippets.py --pytest DIR [README]
"""
import json
import os
import re
import subprocess
import sys
import urllib.request

SERVER = "http://localhost:4599"
MARKER = re.compile(r"^<!-- ci: (env|sh|python|python-package|(?:node|file|pytest) [\w.-]+) -->$")
PACKAGE_KINDS = ("pytest", "python-package")


def fenced(lines, marker_index):
    """The code of the fenced block right after the marker line at `marker_index`."""
    fence = lines[marker_index + 1]
    assert fence.startswith("```"), f"README line {marker_index + 2}: a marker must precede a fence"
    end = lines.index("```", marker_index + 2)
    return "\n".join(lines[marker_index + 2 : end]) + "\n"


def snippets(readme):
    lines = open(readme, encoding="utf-8").read().splitlines()
    found = []
    for i, line in enumerate(lines):
        marker = MARKER.match(line)
        if marker:
            found.append((marker.group(1), i + 2, fenced(lines, i)))
    return found


def block(readme, kind):
    """The one block marked `<!-- ci: KIND -->`, for the scripts that build from the README
    (readme_rust_crate.py: cargo-toml, cargo-example; terraform_example.py: terraform
    versions.tf)."""
    lines = open(readme, encoding="utf-8").read().splitlines()
    return fenced(lines, lines.index(f"<!-- ci: {kind} -->"))


def reset():
    request = urllib.request.Request(SERVER + "/_reset", data=b"", method="POST")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200, answer.status


def write_pytest_files(directory, readme):
    os.makedirs(directory, exist_ok=True)
    scripts = []
    written = 0
    for kind, line, code in snippets(readme):
        if kind.startswith("pytest "):
            with open(os.path.join(directory, kind.split(" ", 1)[1]), "w", encoding="utf-8") as f:
                f.write(code)
            written += 1
        elif kind == "python-package":
            body = "".join("    " + l if l.strip() else l for l in code.splitlines(True))
            scripts.append(f"def test_readme_line_{line}():\n{body}\n")
    if scripts:
        with open(os.path.join(directory, "test_readme_scripts.py"), "w", encoding="utf-8") as f:
            f.write("\n\n".join(scripts))
        written += 1
    assert written, "the README has no pytest or python-package snippet"
    print(json.dumps({"pytest files written": written}), file=sys.stderr)


def main():
    if sys.argv[1] == "--pytest":
        write_pytest_files(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "README.md")
        return
    node_dir = os.path.abspath(sys.argv[1])
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    found = snippets(readme)
    env_lines = "".join(code for kind, _, code in found if kind == "env")
    assert env_lines, "the README has no env snippet"
    env = dict(os.environ)
    # The snippets' own variables are the only AWS configuration they get.
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    exports = subprocess.run(
        ["bash", "-c", env_lines + "env -0"], env=env, capture_output=True, check=True
    ).stdout
    env = dict(item.split("=", 1) for item in exports.decode().split("\0") if "=" in item)

    ran = 0
    reset()
    for kind, line, code in found:
        if kind == "env" or kind.split(" ", 1)[0] in PACKAGE_KINDS:
            continue
        if kind == "sh":
            command = ["bash", "-euo", "pipefail", "-c", code]
        elif kind == "python":
            command = [sys.executable, "-c", code]
        else:
            name = kind.split(" ", 1)[1]
            with open(os.path.join(node_dir, name), "w", encoding="utf-8") as f:
                f.write(code)
            if kind.startswith("file "):
                continue
            command = ["node", name]
        result = subprocess.run(command, cwd=node_dir, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"README line {line} ({kind}) failed with {result.returncode}:")
            print(code)
            print(result.stdout, result.stderr, sep="\n")
            sys.exit(1)
        print(f"README line {line} ({kind}): ok", file=sys.stderr)
        ran += 1
    print(json.dumps({"snippets run": ran}), file=sys.stderr)


if __name__ == "__main__":
    main()
