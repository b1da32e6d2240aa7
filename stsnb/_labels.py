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

__all__ = ["text", "header", "headers", "aspect", "reason", "value", "english_catalogue", "untranslated", "LANGS"]

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
    "interrupted": {"en": "interrupted: the cluster goes on by itself; press Refresh to see where it is",
                    "ko": "중단됨: 클러스터는 스스로 계속 진행한다. 새로 고침을 누르면 현재 상태가 보인다"},
    "progress": {"en": "updated {updated}/{replicas} pods, {ready} Ready", "ko": "파드 {replicas}개 중 {updated}개 업데이트, {ready}개 Ready"},
    "live": {"en": "{ready}/{replicas} pods Ready", "ko": "파드 {replicas}개 중 {ready}개 Ready"},
    "live_reason": {"en": "{ready}/{replicas} pods Ready; controller: {reason}",
                    "ko": "파드 {replicas}개 중 {ready}개 Ready. 컨트롤러: {reason}"},
    "scaled": {"en": "{name}: {replicas} replicas", "ko": "{name}: 레플리카 {replicas}개"},
    "image_now": {"en": "{name} runs {image}", "ko": "{name}의 이미지: {image}"},
    "missing": {"en": "{ref} does not exist (any more): {why}",
                "ko": "{ref}이(가) 지금은 없다: {why}"},
    "missing_cleaned": {"en": "the notebook's clean-up step deleted it",
                        "ko": "노트북의 정리 단계가 삭제했다"},
    "missing_deleted": {"en": "it was deleted after this panel was made (by a later step, or by hand)",
                        "ko": "이 패널을 만든 뒤에 삭제되었다(뒤쪽 단계나 직접 삭제)"},
    "missing_never": {"en": "it has not been created yet",
                      "ko": "아직 만들어지지 않았다"},
    "bring_back": {"en": "Bring it back", "ko": "다시 만들기"},
    "bring_back_hint": {"en": "press “{button}” to create it again from the manifest this lab applied",
                        "ko": "“{button}”을 누르면 이 실습이 적용한 매니페스트로 다시 만든다"},
    "brought_back": {"en": "created again: {refs}", "ko": "다시 만들었다: {refs}"},
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
    "seconds": {"en": "{value} s", "ko": "{value}초"},
    "kept_sandbox": {
        "en": "Everything this notebook created stays in place, so the panels above keep working: the sandbox "
              "and all in it go away when the kernel stops (Kernel → Shut Down). To delete it now: lab.cleanup()",
        "ko": "이 노트북이 만든 것은 그대로 두었다. 그래서 위의 패널은 계속 동작한다. 샌드박스와 그 안의 모든 것은 "
              "커널이 멈출 때(Kernel → Shut Down) 사라진다. 지금 지우려면: lab.cleanup()"},
    "cleaned_real": {
        "en": "Deleted what this notebook created in namespace {ns!r} (the table lists it). The panels above now say "
              "so; their “{button}” button, or lab.restore(), creates it again.",
        "ko": "이 노트북이 네임스페이스 {ns!r}에 만든 것을 삭제했다(표 참고). 위의 패널은 이제 그렇다고 알려 주며, "
              "패널의 “{button}” 버튼이나 lab.restore()로 다시 만들 수 있다."},
}

#: Displayed table headers, by column key (keys stay English identifiers for code).
HEADERS: dict[str, dict[str, str]] = {
    "name": {"en": "name", "ko": "이름"},
    "pod": {"en": "pod", "ko": "파드"},
    "stdout": {"en": "stdout", "ko": "표준 출력"},
    "stderr": {"en": "stderr", "ko": "표준 에러"},
    "exit_code": {"en": "exit code", "ko": "종료 코드"},
    "pods": {"en": "pods", "ko": "파드 수"},
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
    "pod_name_label": {"en": "label pod-name", "ko": "pod-name 레이블"},
    "subdomain": {"en": "subdomain", "ko": "서브도메인"},
    "fqdn": {"en": "FQDN", "ko": "FQDN"},
    "reverse": {"en": "reverse lookup", "ko": "역방향 조회"},
    "owner": {"en": "owner", "ko": "소유자"},
    "claim": {"en": "claim", "ko": "클레임"},
    "claims": {"en": "claims", "ko": "클레임"},
    "volume": {"en": "volume", "ko": "볼륨"},
    "source": {"en": "source", "ko": "볼륨 종류"},
    "mount_path": {"en": "mount path", "ko": "마운트 경로"},
    "capacity": {"en": "capacity", "ko": "용량"},
    "access_modes": {"en": "access modes", "ko": "접근 모드"},
    "storage_class": {"en": "storage class", "ko": "스토리지클래스"},
    "in_use": {"en": "in use", "ko": "사용 중"},
    "aspect": {"en": "aspect", "ko": "항목"},
    "time": {"en": "time", "ko": "시간"},
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
    "cluster_ip": {"en": "cluster IP", "ko": "클러스터 IP"},
    "ports": {"en": "ports", "ko": "포트"},
    "selector": {"en": "selector", "ko": "셀렉터"},
    "when": {"en": "when", "ko": "시점"},
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

#: Displayed values: an English template (what the frame stores) and its Korean form. ``{x}`` stands for any text.
VALUES: list[tuple[str, str]] = [
    ("the StatefulSet itself (no ReplicaSet)", "스테이트풀셋 자신 (레플리카셋 없음)"),
    ("ReplicaSet {names}", "레플리카셋 {names}"),
    ("ReplicaSet", "레플리카셋"),
    ("{name}-<ordinal>", "{name}-<서수>"),
    ("{name}-<pod-template-hash>-<5 random characters>", "{name}-<pod-template-hash>-<무작위 문자 5개>"),
    ("one pod at a time, highest ordinal first", "한 번에 파드 하나씩, 가장 큰 서수부터"),
    ("OnDelete: only when you delete a pod", "OnDelete: 파드를 직접 삭제할 때만"),
    ("new ReplicaSet scaled up while the old one scales down, several pods at once",
     "새 레플리카셋을 늘리는 동안 이전 것을 줄인다. 여러 파드를 한꺼번에"),
    ("{svc} (headless)", "{svc} (헤드리스)"),
    ("{svc} (ClusterIP {ip})", "{svc} (ClusterIP {ip})"),
    ("before", "이전"),
    ("after", "이후"),
    ("EXISTING", "시작 시 있음"),
    ("SYNC", "동기화"),
]

#: Timeline reasons: the English template (what the frame stores) and its Korean form.
REASONS: list[tuple[str, str]] = [
    ("spec change not observed yet", "스펙 변경 반영 전"),
    ("creating pod {n}", "파드 {n} 생성 중"),
    ("pod {n} not Ready yet", "파드 {n}: 아직 Ready 아님"),
    ("pod {n} terminating", "파드 {n} 종료 중"),
    ("scaling down: removing pod {n}", "스케일 다운: 파드 {n} 제거 중"),
    ("updating pod {n}", "파드 {n} 업데이트 중"),
    ("below partition {n}: pods keep the old revision", "파티션 {n} 미만: 파드가 이전 리비전을 유지"),
    ("OnDelete: waiting for pods to be deleted", "OnDelete: 파드가 삭제되기를 기다림"),
    ("pod {n} failing: {why}", "파드 {n} 실패: {why}"),
    ("steady", "안정"),
]

#: Strings of the docs theme and of MyST-NB that a Korean page must not show in English
#: (the site's conf.py sets their Korean forms; the Korean-label test walks the site for these).
THEME: dict[str, dict[str, str]] = {
    "show_code": {"en": "Show code cell source", "ko": "확인 코드 보기"},
    "hide_code": {"en": "Hide code cell source", "ko": "확인 코드 숨기기"},
    "show_output": {"en": "Show code cell output", "ko": "코드 셀 출력 보기"},
    "hide_output": {"en": "Hide code cell output", "ko": "코드 셀 출력 숨기기"},
    "footer": {"en": "By stsnb contributors", "ko": "stsnb 기여자"},
}


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


_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")


def _template_regex(template: str) -> re.Pattern:
    """``"pod {n} failing: {why}"`` → a regex with a named group per placeholder (``n`` matches digits)."""
    def group(m: re.Match) -> str:
        name = m.group(1)
        return rf"(?P<{name}>\d+)" if name == "n" else rf"(?P<{name}>.+?)"
    return re.compile("^" + _PLACEHOLDER.sub(group, re.escape(template)) + "$", re.S)


_REASON_RE = [(_template_regex(en), en, ko) for en, ko in REASONS]
_VALUE_RE = [(_template_regex(en), en, ko) for en, ko in VALUES]


def _translated(text_en: str, table: list[tuple[re.Pattern, str, str]]) -> str | None:
    for rx, _, ko in table:
        m = rx.match(text_en)
        if m:
            return ko.format(**m.groupdict())
    return None


def reason(text_en: str, lang: str = "en") -> str:
    """A timeline reason in ``lang`` (reasons are stored in English; unknown ones pass through)."""
    if _check(lang) == "en" or not text_en:
        return text_en
    return _translated(text_en, _REASON_RE) or text_en


def value(text_en: object, lang: str = "en") -> object:
    """A displayed cell value in ``lang``: known English phrases (:data:`VALUES`, reasons) are translated.

    Anything else (names, hashes, API values such as ``Running``) passes through unchanged.
    """
    if _check(lang) == "en" or not isinstance(text_en, str) or not text_en:
        return text_en
    return _translated(text_en, _VALUE_RE) or _translated(text_en, _REASON_RE) or text_en


def english_catalogue() -> list[str]:
    """Every English string (template) a Korean page must not show: those whose Korean form differs."""
    out: list[str] = []
    for table in (TEXT, HEADERS, ASPECTS, THEME):
        out += [e["en"] for e in table.values() if e["en"] != e["ko"]]
    out += [en for en, ko in (*REASONS, *VALUES) if en != ko]
    return out


def untranslated(texts, *, exact: bool = False) -> list[tuple[str, str]]:
    """``(text, catalogue entry)`` for every text that shows an English catalogue string.

    With ``exact`` a text must *be* an entry (table headers, widget labels); otherwise a text is
    searched for entries of two or more words (prose and values, where single English words such
    as ``image`` may stand in code or API values).
    """
    found = []
    patterns = []
    for entry in english_catalogue():
        literal = re.sub(r"\{\w+(![rsa])?\}", " ", entry).strip()
        if not exact and len(literal.split()) < 2:
            continue
        # in running text a placeholder stands for one word (a name, a number), so phrases don't span sentences
        wild = r".+?" if exact else r"\S+"
        rx = _PLACEHOLDER.sub(lambda _m: wild, re.escape(entry)).replace(r"\{ns!r\}", wild)
        patterns.append((entry, re.compile(f"^{rx}$" if exact else rx)))
    for t in texts:
        t = " ".join(str(t).split())
        for entry, rx in patterns:
            if rx.search(t):
                found.append((t, entry))
    return found
