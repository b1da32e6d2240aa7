"""kubernetes.io's two downward API task pages, with kubectl, on a served sandbox.

*Expose Pod Information to Containers Through Environment Variables*: ``fieldRef`` (node, pod name,
namespace, pod IP, ServiceAccount) and ``resourceFieldRef`` (requests and limits, rounded up to whole
CPUs and bytes). *Expose Pod Information to Containers Through Files*: a ``downwardAPI`` volume with
the pod's labels and annotations in upstream's ``FormatMap`` form (``key="value"``, Go's ``%q``), laid
out as the kubelet's AtomicWriter writes it (``..data`` pointing at a timestamped directory, a link
per file), kept current when the labels change; and the container's resources in units of their
``divisor``. The manifests are the page's own, unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

TUTORIAL = Path(__file__).parent / "tutorial"


def _logged(kubectl, pod: str, lines: int) -> list[str]:
    """The pod's first loop of output (its lines without the blank separators), once it has printed ``lines``."""
    def printed():
        out = [line for line in kubectl("logs", pod, check=False).out.splitlines() if line.strip()]
        return out if len(out) >= lines else None
    return kubectl.wait(f"{pod} to print {lines} lines", printed)[:lines]


def test_the_environment_variables_page_prints_the_pods_fields_and_its_containers_resources(kubectl):
    kubectl.apply(TUTORIAL / "dapi-envars-pod.yaml", TUTORIAL / "dapi-envars-container.yaml")
    kubectl("wait", "--for=condition=Ready", "pod/dapi-envars-fieldref", "pod/dapi-envars-resourcefieldref",
            "--timeout=60s", timeout=90)
    pod = json.loads(kubectl("get", "pod", "dapi-envars-fieldref", "-o", "json").out)
    assert _logged(kubectl, "dapi-envars-fieldref", 5) == [
        pod["spec"]["nodeName"], "dapi-envars-fieldref", "default", pod["status"]["podIP"], "default"]
    assert kubectl("exec", "dapi-envars-fieldref", "--", "printenv", "MY_POD_NAME").out == "dapi-envars-fieldref\n"
    # requests.cpu 125m and limits.cpu 250m round up to one CPU; memory in bytes (32Mi, 64Mi)
    assert _logged(kubectl, "dapi-envars-resourcefieldref", 4) == ["1", "1", "33554432", "67108864"]


def test_the_files_page_shows_labels_and_annotations_as_formatmap_writes_them(kubectl):
    kubectl.apply(TUTORIAL / "dapi-volume.yaml")
    kubectl("wait", "--for=condition=Ready", "pod/kubernetes-downwardapi-volume-example", "--timeout=60s", timeout=90)
    labels = ['cluster="test-cluster1"', 'rack="rack-22"', 'zone="us-est-coast"']
    logged = _logged(kubectl, "kubernetes-downwardapi-volume-example", 6)
    assert logged[:5] == [*labels, 'build="two"', 'builder="john-doe"']
    # kubectl apply's annotation is there too, quoted as Go's %q quotes it: \" inside, and its closing newline as \n
    last = logged[5]
    assert last.startswith('kubectl.kubernetes.io/last-applied-configuration="{\\"apiVersion\\":\\"v1\\",')
    assert last.endswith('}\\n"')
    assert kubectl("exec", "kubernetes-downwardapi-volume-example", "--", "cat", "/etc/podinfo/labels").out == \
        "\n".join(labels)  # no newline after the last pair, as FormatMap trims it


def test_the_files_page_volume_is_the_atomic_writers_links_and_follows_new_labels(kubectl):
    kubectl.apply(TUTORIAL / "dapi-volume.yaml")
    pod = "kubernetes-downwardapi-volume-example"
    kubectl("wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=60s", timeout=90)
    listing = kubectl("exec", pod, "--", "ls", "-laR", "/etc/podinfo").out
    stamp = re.search(r" \.\.data -> (\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+)\n", listing)
    assert stamp, listing
    lines = listing.splitlines()
    assert lines[0] == "/etc/podinfo:" and lines[1].startswith("total ")
    assert any(re.match(r"lrwxrwxrwx .* labels -> \.\.data/labels$", line) for line in lines)
    assert any(re.match(r"lrwxrwxrwx .* annotations -> \.\.data/annotations$", line) for line in lines)
    assert f"/etc/podinfo/{stamp.group(1)}:" in lines
    assert any(re.match(r"-rw-r--r-- .* labels$", line) for line in lines)
    kubectl("label", "pod", pod, "tier=front-end")
    kubectl.wait("the new label in the file", lambda: 'tier="front-end"' in kubectl(
        "exec", pod, "--", "cat", "/etc/podinfo/labels").out)
    again = kubectl("exec", pod, "--", "ls", "-la", "/etc/podinfo").out
    assert stamp.group(1) not in again, "a new payload directory replaces the old one"


def test_the_files_page_resources_are_in_units_of_their_divisor(kubectl):
    kubectl.apply(TUTORIAL / "dapi-volume-resources.yaml")
    pod = "kubernetes-downwardapi-volume-example-2"
    kubectl("wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=60s", timeout=90)
    # cpu in millicores (divisor 1m), memory in MiB (divisor 1Mi): limit, then request
    assert _logged(kubectl, pod, 4) == ["250", "125", "64", "32"]
    assert kubectl("exec", pod, "--", "cat", "/etc/podinfo/mem_limit").out == "64"
