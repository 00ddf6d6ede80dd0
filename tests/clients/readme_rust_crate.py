"""Builds and runs the README's embedded Rust example in a new crate, with exactly the
dependency lines the README prints, and checks that its dependency tree has no TLS stack.

The README's `<!-- ci: cargo-toml -->` block is appended to the new crate's Cargo.toml and
its `<!-- ci: cargo-example -->` block becomes examples/embedded.rs. The crate sits beside
a link named `appstream-local` to this repository, so the printed `path =
"../appstream-local"` resolves as it would beside a clone. This repository's Cargo.lock
is copied in so that shared dependencies resolve to versions already built.

Usage: python3 readme_rust_crate.py WORK_DIR [README]
"""
import os
import re
import subprocess
import sys

from readme_snippets import block

FORBIDDEN = ("aws-lc-sys", "aws-lc-rs", "ring", "rustls", "openssl", "openssl-sys", "native-tls")


def main():
    work = os.path.abspath(sys.argv[1])
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    repo = os.path.abspath(os.path.dirname(readme) or ".")
    crate = os.path.join(work, "embedding-example")
    os.makedirs(os.path.join(crate, "src"), exist_ok=True)
    os.makedirs(os.path.join(crate, "examples"), exist_ok=True)
    link = os.path.join(work, "appstream-local")
    if not os.path.lexists(link):
        os.symlink(repo, link)
    with open(os.path.join(crate, "Cargo.toml"), "w", encoding="utf-8") as f:
        f.write('[package]\nname = "embedding-example"\nversion = "0.1.0"\nedition = "2021"\n\n')
        f.write("[workspace]\n\n")
        f.write(block(readme, "cargo-toml"))
    open(os.path.join(crate, "src", "lib.rs"), "w").close()
    with open(os.path.join(crate, "examples", "embedded.rs"), "w", encoding="utf-8") as f:
        f.write(block(readme, "cargo-example"))
    with open(os.path.join(repo, "Cargo.lock"), "rb") as src, open(
        os.path.join(crate, "Cargo.lock"), "wb"
    ) as dst:
        dst.write(src.read())

    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(repo, "target", "embedding-example"))
    tree = subprocess.run(
        ["cargo", "tree", "-e", "normal,dev,build", "--prefix", "none", "--format", "{p}"],
        cwd=crate, env=env, capture_output=True, text=True, check=True,
    ).stdout
    names = {re.split(r"\s", line.strip())[0] for line in tree.splitlines() if line.strip()}
    found = sorted(names & set(FORBIDDEN))
    assert not found, f"the example's dependency tree has a TLS stack: {found}"
    print(f"{len(names)} crates in the example's tree, none of {', '.join(FORBIDDEN)}",
          file=sys.stderr)
    subprocess.run(["cargo", "run", "--quiet", "--example", "embedded"],
                   cwd=crate, env=env, check=True)
    print("the README's embedded example built and ran", file=sys.stderr)


if __name__ == "__main__":
    main()
