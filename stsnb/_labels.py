"""The ko/en catalogue: panel labels, displayed table headers and timeline reasons.

Library messages (errors, kubectl-like lines) stay in English, the language of
the tools they imitate. What a reader *looks at* in a panel, a table header or a
timeline comes from here, keyed by ``lang``. Korean terms follow the official
Korean Kubernetes docs, as listed in ``docs/ko/glossary.md``: 파드, 스테이트풀셋,
서수, 레플리카, 리비전, 노드, 퍼시스턴트볼륨클레임, 스토리지클래스 …; field
names and status values (``Running``, ``Bound``) stay in English on both sides.
"""

from __future__ import annotations

import re

__all__ = ["text", "header", "headers", "reason", "LANGS"]

LANGS = ("en", "ko")

#: UI strings, by key.
TEXT: dict[str, dict[str, str]] = {
    "replicas": {"en": "replicas", "ko": "레플리카"},
    "apply": {"en": "Apply", "ko": "적용"},
    "scale_title": {"en": "Scale {name}", "ko": "{name} 스케일"},
    "image_title": {"en": "Update the image of {name}", "ko": "{name}의 이미지 업데이트"},
    "identity_title": {"en": "Pod identity", "ko": "파드 신원"},
    "dashboard_title": {"en": "StatefulSet {name}", "ko": "스테이트풀셋 {name}"},
    "image": {"en": "image", "ko": "이미지"},
    "update": {"en": "Update image", "ko": "이미지 업데이트"},
    "refresh": {"en": "Refresh", "ko": "새로 고침"},
    "rollback": {"en": "Roll back", "ko": "롤백"},
    "idle": {"en": "ready", "ko": "준비됨"},
    "working": {"en": "working…", "ko": "진행 중…"},
    "done": {"en": "done", "ko": "완료"},
    "error": {"en": "error", "ko": "오류"},
    "progress": {"en": "updated {updated}/{replicas} pods, {ready} Ready", "ko": "파드 {replicas}개 중 {updated}개 업데이트, {ready}개 Ready"},
    "scaled": {"en": "{name}: {replicas} replicas", "ko": "{name}: 레플리카 {replicas}개"},
    "timeline": {"en": "timeline", "ko": "타임라인"},
    "time_axis": {"en": "time (s)", "ko": "시간 (초)"},
    "timeline_hint": {"en": "Choose an image and press the button: the rollout's timeline appears here.",
                      "ko": "이미지를 고르고 버튼을 누르면 여기에 롤아웃 타임라인이 나타난다."},
    "ordinal_axis": {"en": "ordinal", "ko": "서수"},
    "revision_legend": {"en": "revision", "ko": "리비전"},
    "controller_lane": {"en": "controller", "ko": "컨트롤러"},
    "not_ready": {"en": "not Ready", "ko": "Ready 아님"},
    "terminating": {"en": "Terminating", "ko": "Terminating"},
    "no_events": {"en": "nothing happened while recording", "ko": "기록하는 동안 아무 일도 없었다"},
    "no_pods": {"en": "no pods", "ko": "파드 없음"},
    "timeline_title": {"en": "Pods of {name} over time", "ko": "시간에 따른 {name}의 파드"},
}

#: Displayed table headers, by column key (keys stay English identifiers for code).
HEADERS: dict[str, dict[str, str]] = {
    "name": {"en": "name", "ko": "이름"},
    "pod": {"en": "pod", "ko": "파드"},
    "ordinal": {"en": "ordinal", "ko": "서수"},
    "phase": {"en": "phase", "ko": "단계"},
    "status": {"en": "status", "ko": "상태"},
    "ready": {"en": "ready", "ko": "Ready"},
    "ip": {"en": "IP", "ko": "IP"},
    "node": {"en": "node", "ko": "노드"},
    "revision": {"en": "revision", "ko": "리비전"},
    "image": {"en": "image", "ko": "이미지"},
    "hash": {"en": "hash", "ko": "해시"},
    "current": {"en": "current", "ko": "현재"},
    "update": {"en": "update", "ko": "업데이트"},
    "replicas": {"en": "replicas", "ko": "레플리카"},
    "ready_replicas": {"en": "ready replicas", "ko": "Ready 레플리카"},
    "updated_replicas": {"en": "updated replicas", "ko": "업데이트된 레플리카"},
    "current_revision": {"en": "current revision", "ko": "현재 리비전"},
    "update_revision": {"en": "update revision", "ko": "업데이트 리비전"},
    "service_name": {"en": "service name", "ko": "서비스 이름"},
    "pod_management_policy": {"en": "pod management policy", "ko": "파드 관리 정책"},
    "update_strategy": {"en": "update strategy", "ko": "업데이트 전략"},
    "partition": {"en": "partition", "ko": "파티션"},
    "hostname": {"en": "hostname", "ko": "호스트 이름"},
    "subdomain": {"en": "subdomain", "ko": "서브도메인"},
    "fqdn": {"en": "FQDN", "ko": "FQDN"},
    "reverse": {"en": "reverse lookup", "ko": "역방향 조회"},
    "owner": {"en": "owner", "ko": "소유자"},
    "claim": {"en": "claim", "ko": "클레임"},
    "volume": {"en": "volume", "ko": "볼륨"},
    "capacity": {"en": "capacity", "ko": "용량"},
    "access_modes": {"en": "access modes", "ko": "접근 모드"},
    "storage_class": {"en": "storage class", "ko": "스토리지클래스"},
    "aspect": {"en": "aspect", "ko": "항목"},
    "time": {"en": "time (s)", "ko": "시간 (초)"},
    "last_seen": {"en": "last seen", "ko": "마지막 발생 시각"},
    "event": {"en": "event", "ko": "이벤트"},
    "reason": {"en": "reason", "ko": "이유"},
    "type": {"en": "type", "ko": "유형"},
    "object": {"en": "object", "ko": "오브젝트"},
    "message": {"en": "message", "ko": "메시지"},
    "count": {"en": "count", "ko": "횟수"},
    "kind": {"en": "kind", "ko": "종류"},
    "namespace": {"en": "namespace", "ko": "네임스페이스"},
    "uid": {"en": "uid", "ko": "UID"},
    "via": {"en": "deleted with", "ko": "함께 삭제된 원인"},
    "restarts": {"en": "restarts", "ko": "재시작"},
    "query": {"en": "query", "ko": "질의"},
    "answers": {"en": "answers", "ko": "응답"},
}

#: Values in the comparison table's "aspect" column.
ASPECTS: dict[str, dict[str, str]] = {
    "kind": {"en": "kind", "ko": "종류"},
    "replicas": {"en": "replicas (ready/desired)", "ko": "레플리카 (Ready/원하는 수)"},
    "manages_pods_through": {"en": "manages its pods through", "ko": "파드를 관리하는 주체"},
    "pod_names": {"en": "pod names", "ko": "파드 이름"},
    "pod_name_pattern": {"en": "pod name pattern", "ko": "파드 이름 규칙"},
    "revision_label": {"en": "revision label on pods", "ko": "파드의 리비전 레이블"},
    "hostnames": {"en": "pod hostnames", "ko": "파드 호스트 이름"},
    "subdomain": {"en": "pod subdomain (per-pod DNS)", "ko": "파드 서브도메인 (파드별 DNS)"},
    "volumes": {"en": "per-pod volume claims", "ko": "파드별 볼륨 클레임"},
    "update_order": {"en": "rolling update", "ko": "롤링 업데이트"},
    "service": {"en": "service in front", "ko": "앞에 있는 서비스"},
}

#: Timeline reasons: the English template (what the frame stores) and its Korean form.
REASONS: list[tuple[str, str]] = [
    ("spec change not observed yet", "컨트롤러가 아직 스펙 변경을 반영하지 않음"),
    ("creating pod {n}", "파드 {n} 생성 중"),
    ("pod {n} not Ready yet", "파드 {n}이(가) 아직 Ready 아님"),
    ("pod {n} terminating", "파드 {n} 종료 중"),
    ("scaling down: removing pod {n}", "스케일 다운: 파드 {n} 제거 중"),
    ("updating pod {n}", "파드 {n} 업데이트 중"),
    ("below partition {n}: pods keep the old revision", "파티션 {n} 미만: 파드가 이전 리비전을 유지"),
    ("OnDelete: waiting for pods to be deleted", "OnDelete: 파드가 삭제되기를 기다림"),
    ("pod {n} failing: {why}", "파드 {n} 실패: {why}"),
    ("steady", "안정"),
]


def _check(lang: str) -> str:
    return lang if lang in LANGS else "en"


def text(key: str, lang: str = "en", **fmt: object) -> str:
    """A UI string in ``lang``, formatted with ``fmt``."""
    entry = TEXT.get(key)
    s = entry[_check(lang)] if entry else key
    return s.format(**fmt) if fmt else s


def header(key: str, lang: str = "en") -> str:
    """The displayed header for a column key (the key itself when it has no entry, e.g. a label key)."""
    entry = HEADERS.get(key)
    return entry[_check(lang)] if entry else key


def headers(keys, lang: str = "en") -> dict[str, str]:
    """``{key: displayed header}`` for the columns of a frame."""
    return {k: header(k, lang) for k in keys}


def aspect(key: str, lang: str = "en") -> str:
    entry = ASPECTS.get(key)
    return entry[_check(lang)] if entry else key


def _template_regex(template: str) -> re.Pattern:
    pattern = re.escape(template).replace(r"\{n\}", r"(?P<n>\d+)").replace(r"\{why\}", r"(?P<why>.+)")
    return re.compile(f"^{pattern}$")


_REASON_RE = [(_template_regex(en), en, ko) for en, ko in REASONS]


def reason(text_en: str, lang: str = "en") -> str:
    """A timeline reason in ``lang`` (reasons are stored in English; unknown ones pass through)."""
    if _check(lang) == "en" or not text_en:
        return text_en
    for rx, _, ko in _REASON_RE:
        m = rx.match(text_en)
        if m:
            return ko.format(**m.groupdict())
    return text_en
