"""What a reader sees, as pure functions: the label catalogue, table formatting, colours, takeover checks."""

from __future__ import annotations

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from stsnb import _labels, tables
from stsnb.lab import safety
from stsnb.lab.results import replacement_frame
from stsnb.watching import _claims_to_be_deleted

REV1, REV2 = "nginx-stateful-7db594cfbd", "nginx-stateful-6c7d474cc"


def _cells(html: str) -> list[str]:
    return [td.get_text() for td in BeautifulSoup(html, "html.parser").find_all("td")]


def _headers(html: str) -> list[str]:
    return [th.get_text() for th in BeautifulSoup(html, "html.parser").find_all("th")]


def test_every_column_of_every_table_has_a_korean_header():
    columns = {*tables.POD_COLUMNS, *tables.IDENTITY_COLUMNS, *tables.REVISION_COLUMNS, *tables.STATEFULSET_COLUMNS,
               *tables.DNS_COLUMNS, *tables.PVC_COLUMNS, *tables.EVENT_COLUMNS, *tables.SERVICE_COLUMNS,
               *tables.VOLUME_COLUMNS, "aspect", "kind", "name", "via",
               *replacement_frame({"metadata": {"name": "p", "uid": "u"}, "spec": {}}, None).columns,
               "time", "event", "pod", "ordinal", "phase", "status", "ready", "revision", "reason"}
    missing = sorted(c for c in columns if c not in _labels.HEADERS)
    assert not missing, f"columns shown without a Korean header: {missing}"
    assert not _labels.untranslated([_labels.header(c, "ko") for c in columns], exact=True)


def test_reasons_read_as_korean_sentences():
    assert _labels.reason("pod 2 not Ready yet", "ko") == "파드 2: 아직 Ready 아님"
    assert _labels.reason("pod 0 failing: ImagePullBackOff", "ko") == "파드 0 실패: ImagePullBackOff"
    assert _labels.reason("something new", "ko") == "something new"


def test_the_catalogue_check_finds_english_left_on_a_korean_page():
    found = _labels.untranslated(["롤아웃 중 pod 2 not Ready yet", "Show code cell source", "파드 2: 아직 Ready 아님"])
    assert {text for text, _ in found} == {"롤아웃 중 pod 2 not Ready yet", "Show code cell source"}
    assert "pod {n} not Ready yet" in {entry for _, entry in found}
    assert _labels.untranslated(["pods", "파드 수", "nginx"], exact=True) == [("pods", "pods")]


def test_a_styled_table_escapes_cells_drops_nan_and_the_index_and_formats_times():
    df = pd.DataFrame({"time": [0.677, 12.3456, 140.0], "event": ["EXISTING", "ADDED", "DELETED"],
                       "pod": ["nginx-stateful-0", "<img src=x onerror=alert(1)>", None],
                       "reason": ["pod 2 not Ready yet", None, float("nan")]})
    html = tables.to_html(df, "en")
    cells = _cells(html)
    assert cells[:4] == ["0.68 s", "EXISTING", "nginx-stateful-0", "pod 2 not Ready yet"]
    assert cells[4:8] == ["12.3 s", "ADDED", "<img src=x onerror=alert(1)>", ""]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src" not in html
    assert "nan" not in cells and "NaN" not in html and "140 s" in cells
    assert "white-space: nowrap" in html
    assert "blank level0" not in html and 'class="row_heading' not in html, "no index column"
    ko = tables.to_html(df, "ko")
    assert _cells(ko)[:4] == ["0.68초", "시작 시 있음", "nginx-stateful-0", "파드 2: 아직 Ready 아님"]
    assert _headers(ko) == ["시간", "이벤트", "파드", "이유"]


def test_the_comparison_table_is_korean_in_korean_including_its_values():
    df = pd.DataFrame({"aspect": ["manages_pods_through", "pod_name_pattern"],
                       "deployment/test-deploy": ["ReplicaSet test-deploy-584c765db4",
                                                  "test-deploy-<pod-template-hash>-<5 random characters>"],
                       "statefulset/nginx-stateful": ["the StatefulSet itself (no ReplicaSet)", "nginx-stateful-<ordinal>"]})
    cells = _cells(tables.to_html(df, "ko"))
    assert cells == ["파드를 관리하는 주체", "레플리카셋 test-deploy-584c765db4", "스테이트풀셋 자신 (레플리카셋 없음)",
                     "파드 이름 규칙", "test-deploy-<pod-template-hash>-<무작위 문자 5개>", "nginx-stateful-<서수>"]
    assert "&lt;pod-template-hash&gt;" in tables.to_html(df, "en")


def test_a_revision_keeps_its_colour_across_tables_that_share_the_colours():
    colors = tables.RevisionColors()
    first = tables.to_html(pd.DataFrame({"revision": [REV2]}), "en", colors)
    second = tables.to_html(pd.DataFrame({"revision": [REV1, REV2]}), "en", colors)
    assert colors.light(REV2) in first and colors.light(REV2) in second
    assert colors.light(REV1) != colors.light(REV2)
    assert colors.seen() == [REV2, REV1]
    tables.to_html(pd.DataFrame({"name": ["nginx-stateful"], "current_revision": [REV1]}), "en", colors)
    assert colors.seen() == [REV2, REV1], "a StatefulSet's name is not a revision"


@pytest.mark.parametrize("value, shown", [(0, "0.0 s"), (0.05, "0.05 s"), (1.24, "1.2 s"), (123.4, "123 s"),
                                          (None, ""), (float("nan"), "")])
def test_durations_read_as_seconds(value, shown):
    assert tables.format_seconds(value) == shown


def _sts(name="web", replicas=3, start=None, policy=None):
    spec = {"replicas": replicas, "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
    if start is not None:
        spec["ordinals"] = {"start": start}
    if policy:
        spec["persistentVolumeClaimRetentionPolicy"] = policy
    return {"metadata": {"name": name, "uid": "set"}, "spec": spec}


def _obj(name, managed=False, owner=None):
    meta = {"name": name, "uid": name, "labels": {"app.kubernetes.io/managed-by": "stsnb"} if managed else {}}
    if owner:
        meta["ownerReferences"] = [{"uid": owner}]
    return {"metadata": meta}


def _ours(o):
    return bool(o["metadata"]["labels"]) or any(r["uid"] == "set" for r in o["metadata"].get("ownerReferences", []))


def test_takeovers_count_every_ordinal_the_set_will_use_from_its_start():
    sts = _sts(replicas=2, start=5)
    assert list(safety.ordinals(sts)) == [5, 6] and list(safety.ordinals(sts, 4)) == [5, 6, 7, 8]
    claims = [_obj("data-web-0"), _obj("data-web-6"), _obj("data-web-5", managed=True)]
    pods = [_obj("web-5", owner="set"), _obj("web-6")]
    found = safety.foreign_takeovers(sts, safety.ordinals(sts), pods, claims, _ours)
    assert found == [("persistentvolumeclaim", "data-web-6", 6), ("pod", "web-6", 6)]


def test_with_a_delete_policy_any_claim_named_after_a_template_counts():
    claims = [_obj("data-web-9"), _obj("other-web-1")]
    assert safety.foreign_takeovers(_sts(), range(3), [], claims, _ours) == []
    policy = _sts(policy={"whenDeleted": "Delete", "whenScaled": "Retain"})
    assert safety.foreign_takeovers(policy, range(3), [], claims, _ours) == [("persistentvolumeclaim", "data-web-9", 9)]
    message, hint = safety.takeover_message(policy, [("persistentvolumeclaim", "data-web-9", 9)], "lab", "patch")
    assert 'persistentvolumeclaim "data-web-9"' in message and "retention policy could delete it" in message
    assert "kubectl delete pvc data-web-9 -n lab" in hint


def test_a_scale_down_waits_only_for_claims_the_retention_policy_will_delete():
    sts = _sts(replicas=2, policy={"whenScaled": "Delete"})
    left_before = {"metadata": {"name": "data-web-4"}}
    condemned = {"metadata": {"name": "data-web-3", "ownerReferences": [{"kind": "Pod", "name": "web-3"}]}}
    just_removed = {"metadata": {"name": "data-web-2"}}
    claims = [left_before, condemned, just_removed, {"metadata": {"name": "data-web-0"}}]
    assert _claims_to_be_deleted(sts, claims, {"web-2"}) == ["data-web-2", "data-web-3"]
    assert _claims_to_be_deleted(_sts(replicas=2), claims, {"web-2"}) == []
