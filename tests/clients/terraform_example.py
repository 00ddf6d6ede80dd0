"""Runs examples/terraform against a server with the real AWS provider, offline from a
filesystem mirror: init, apply, a plan that must show no changes, an update of every
attribute the provider updates in place and another clean plan, an import of every
resource (import blocks) into a fresh state that must match the applied one and need no
change, destroy, and a server left with no resources.

The README's `<!-- ci: terraform versions.tf -->` block replaces the example's
versions.tf, so the provider block the README prints is the one applied.

Usage: python3 terraform_example.py ENDPOINT WORK_DIR [README]

TF_PROVIDER_MIRROR names the mirror (default /opt/tf-plugins); it must hold
registry.terraform.io/hashicorp/aws 5.100.0 for this machine.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.request

from readme_snippets import block

PROVIDER_VERSION = "5.100.0"
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "terraform")

# Resource address -> import id, as the provider's importers take them.
IMPORTS = {
    "aws_appstream_directory_config.corp": "corp.example.com",
    "aws_appstream_stack.main": "tf-stack",
    "aws_appstream_fleet.on_demand": "tf-on-demand",
    "aws_appstream_fleet.always_on": "tf-always-on",
    "aws_appstream_fleet.multi_session": "tf-multi-session",
    "aws_appstream_image_builder.builder": "tf-builder",
    "aws_appstream_user.ann": "ann@example.com/USERPOOL",
    "aws_appstream_fleet_stack_association.on_demand": "tf-on-demand/tf-stack",
    "aws_appstream_user_stack_association.ann": "ann@example.com/USERPOOL/tf-stack",
}

# What the provider cannot read back, so its own acceptance tests leave it out of their
# import checks too: secrets and arguments that only steer a create.
NOT_READ_BACK = {
    "aws_appstream_directory_config": {"service_account_credentials"},
    "aws_appstream_user": {"send_email_notification"},
    "aws_appstream_user_stack_association": {"send_email_notification"},
    "aws_appstream_image_builder": {"image_name"},
    "aws_appstream_fleet": {"image_name", "image_arn"},
}


def fail(message):
    print(f"terraform example: {message}", file=sys.stderr)
    sys.exit(1)


def check_tools(mirror):
    if shutil.which("terraform") is None:
        fail("terraform is not on PATH (Terraform 1.5 or later is needed)")
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    target = f"{platform.system().lower()}_{machine}"
    provider = os.path.join(mirror, "registry.terraform.io", "hashicorp", "aws", PROVIDER_VERSION, target)
    if not os.path.isdir(provider) or not os.listdir(provider):
        fail(f"the provider mirror has no hashicorp/aws {PROVIDER_VERSION} for {target}: {provider} "
             "(set TF_PROVIDER_MIRROR to a filesystem mirror that has it)")


def terraform(directory, *args, ok=(0,)):
    started = time.monotonic()
    result = subprocess.run(["terraform", *args], cwd=directory, capture_output=True, text=True)
    took = time.monotonic() - started
    if result.returncode not in ok:
        print(result.stdout[-6000:], result.stderr[-6000:], sep="\n")
        fail(f"terraform {' '.join(args)} exited {result.returncode}")
    return result, took


def resources(directory):
    shown, _ = terraform(directory, "show", "-json", "-no-color")
    values = json.loads(shown.stdout)["values"]["root_module"]["resources"]
    return {r["address"]: r for r in values if r["mode"] == "managed"}


def comparable(resource):
    skip = NOT_READ_BACK.get(resource["type"], set()) | {"id", "timeouts"}
    return {k: v for k, v in resource["values"].items() if k not in skip}


def state_is_empty(endpoint):
    with urllib.request.urlopen(endpoint + "/_state") as answer:
        regions = json.load(answer)["regions"]
    left = {
        f"{r['account']}/{r['region']}/{family}": list(items)
        for r in regions
        for family, items in r["state"].items()
        if isinstance(items, (dict, list)) and items and family not in ("tags",)
    }
    if left:
        fail(f"the server still holds resources after destroy: {left}")


def main():
    endpoint, work = sys.argv[1], os.path.abspath(sys.argv[2])
    mirror = os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins")
    check_tools(mirror)
    config = os.path.join(work, "terraform.tfrc")
    with open(config, "w", encoding="utf-8") as f:
        f.write('provider_installation {\n  filesystem_mirror {\n'
                f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n'
                '  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n')
    os.environ.update(TF_CLI_CONFIG_FILE=config, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    os.environ.pop("TF_PLUGIN_CACHE_DIR", None)
    applied = os.path.join(work, "applied")
    imported = os.path.join(work, "imported")
    printed = block(sys.argv[3], "terraform versions.tf") if len(sys.argv) > 3 else None
    for directory in (applied, imported):
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(EXAMPLE, directory)
        if printed is not None:
            with open(os.path.join(directory, "versions.tf"), "w", encoding="utf-8") as f:
                f.write(printed)
        terraform(directory, "init", "-input=false", "-no-color")
    var = ["-var", f"endpoint={endpoint}"]
    timings = {}

    _, timings["apply"] = terraform(applied, "apply", "-auto-approve", "-input=false", "-no-color", *var)
    _, timings["plan"] = terraform(applied, "plan", "-detailed-exitcode", "-input=false", "-no-color", *var)
    revised = var + ["-var", "revision=2"]
    changed, timings["update"] = terraform(applied, "apply", "-auto-approve", "-input=false", "-no-color", *revised)
    summary = [l for l in changed.stdout.splitlines() if l.startswith("Apply complete")]
    if not summary or " 0 changed" in summary[0] or " 0 destroyed" not in summary[0]:
        fail(f"the update changed nothing in place, or replaced something: {summary}")
    _, timings["plan after update"] = terraform(applied, "plan", "-detailed-exitcode", "-input=false", "-no-color", *revised)

    # Import blocks import every resource in one run; the run must change nothing else.
    with open(os.path.join(imported, "imports.tf"), "w", encoding="utf-8") as f:
        for address, import_id in IMPORTS.items():
            f.write(f'import {{\n  to = {address}\n  id = "{import_id}"\n}}\n\n')
    done, timings["import"] = terraform(imported, "apply", "-auto-approve", "-input=false", "-no-color", *revised)
    summary = [l for l in done.stdout.splitlines() if l.startswith("Apply complete")]
    # The directory config's password is never read back (AWS does not return it), so
    # the import is followed by setting it again; nothing else may change.
    expected = f"Apply complete! Resources: {len(IMPORTS)} imported, 0 added, 1 changed, 0 destroyed."
    updated = [l for l in done.stdout.splitlines() if "Modifications complete" in l]
    if summary != [expected] or not all("aws_appstream_directory_config.corp" in l for l in updated):
        print(done.stdout[-6000:])
        fail(f"the import run did more than import: {summary} {updated}")
    want, got = resources(applied), resources(imported)
    if set(want) != set(got):
        fail(f"imported {sorted(got)}, applied {sorted(want)}")
    for address in want:
        a, b = comparable(want[address]), comparable(got[address])
        differing = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        if differing:
            fail(f"{address} imported differs from applied: {differing}")

    _, timings["destroy"] = terraform(applied, "destroy", "-auto-approve", "-input=false", "-no-color", *revised)
    state_is_empty(endpoint)
    print(json.dumps({"resources": len(want), "seconds": {k: round(v, 1) for k, v in timings.items()}}))


if __name__ == "__main__":
    main()
