"""The sandbox's bash runs the MySQL StatefulSet tutorial's scripts as bash would: ``[[ ]]``, BASH_REMATCH,
``$(<file)``, ``set -x`` and combined flags; dash keeps not having them."""

from __future__ import annotations

import pytest

from stsnb.sandbox.node.containers import FileSystem, image_root
from stsnb.sandbox.node.programs import Outcome, ProgramContext, run
from stsnb.sandbox.node.programs.shell import ere_regex, glob_regex, xtrace_quote


def _no_dns(query):
    raise RuntimeError("no DNS in this test")


def start(argv: list[str], *, hostname: str = "mysql-0", image: str = "debian", files: dict[str, str] | None = None,
          dirs: tuple[str, ...] = ()) -> tuple[Outcome, FileSystem]:
    """Run ``argv`` as the container's command in a pod named ``hostname``, its filesystem prepared first."""
    fs = FileSystem(image_root("busybox" if image == "busybox" else "debian", nginx=False))
    for d in dirs:
        fs.makedirs(d)
    for path, text in (files or {}).items():
        fs.makedirs(path.rsplit("/", 1)[0] or "/")
        fs.write(path, text.encode())
    pod = {"metadata": {"name": hostname, "namespace": "default"}, "spec": {},
           "status": {"podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]}}
    spec = {"name": "c", "image": image, "command": argv}
    return run(ProgramContext(pod, spec, _no_dns, "10.96.0.10", [], fs=fs)), fs


def bash(script: str, *args: str, **kw) -> tuple[str, int]:
    """``bash -c SCRIPT [ARGS]``: its output (stdout and stderr as ``kubectl logs`` shows them) and exit status."""
    out, _ = start(["bash", "-c", script, *args], **kw)
    assert not out.runs_forever
    return out.output, out.exit_code


def sh(script: str, image: str = "debian") -> tuple[str, int]:
    out, _ = start(["sh", "-c", script], image=image)
    return out.output, out.exit_code


# ------------------------------------------------------------------ the tutorial's scripts

INIT_MYSQL = """set -ex
# Generate mysql server-id from pod ordinal index.
[[ $HOSTNAME =~ -([0-9]+)$ ]] || exit 1
ordinal=${BASH_REMATCH[1]}
echo [mysqld] > /mnt/conf.d/server-id.cnf
# Add an offset to avoid reserved server-id=0 value.
echo server-id=$((100 + $ordinal)) >> /mnt/conf.d/server-id.cnf
# Copy appropriate conf.d files from config-map to emptyDir.
if [[ $ordinal -eq 0 ]]; then
  cp /mnt/config-map/primary.cnf /mnt/conf.d/
else
  cp /mnt/config-map/replica.cnf /mnt/conf.d/
fi
"""
CONFIG_MAP = {"/mnt/config-map/primary.cnf": "# Apply this config only on the primary.\n[mysqld]\nlog-bin\n",
              "/mnt/config-map/replica.cnf": "# Apply this config only on replicas.\n[mysqld]\nsuper-read-only\n"}


def test_init_mysql_on_mysql_0_writes_server_id_100_and_copies_the_primary_cnf_tracing_each_command():
    out, fs = start(["bash", "-c", INIT_MYSQL], hostname="mysql-0", files=CONFIG_MAP, dirs=("/mnt/conf.d",))
    assert (out.output, out.exit_code) == (
        "+ [[ mysql-0 =~ -([0-9]+)$ ]]\n"
        "+ ordinal=0\n"
        "+ echo '[mysqld]'\n"
        "+ echo server-id=100\n"
        "+ [[ 0 -eq 0 ]]\n"
        "+ cp /mnt/config-map/primary.cnf /mnt/conf.d/\n", 0)
    assert fs.read("/mnt/conf.d/server-id.cnf") == b"[mysqld]\nserver-id=100\n"
    assert sorted(fs.listdir("/mnt/conf.d")) == ["primary.cnf", "server-id.cnf"]
    assert fs.read("/mnt/conf.d/primary.cnf").decode() == CONFIG_MAP["/mnt/config-map/primary.cnf"]


def test_init_mysql_on_mysql_2_writes_server_id_102_and_copies_the_replica_cnf():
    out, fs = start(["bash", "-c", INIT_MYSQL], hostname="mysql-2", files=CONFIG_MAP, dirs=("/mnt/conf.d",))
    assert (out.output, out.exit_code) == (
        "+ [[ mysql-2 =~ -([0-9]+)$ ]]\n"
        "+ ordinal=2\n"
        "+ echo '[mysqld]'\n"
        "+ echo server-id=102\n"
        "+ [[ 2 -eq 0 ]]\n"
        "+ cp /mnt/config-map/replica.cnf /mnt/conf.d/\n", 0)
    assert fs.read("/mnt/conf.d/server-id.cnf") == b"[mysqld]\nserver-id=102\n"
    assert sorted(fs.listdir("/mnt/conf.d")) == ["replica.cnf", "server-id.cnf"]


def test_init_mysql_exits_1_when_the_hostname_has_no_ordinal():
    out, fs = start(["bash", "-c", INIT_MYSQL], hostname="mysql", files=CONFIG_MAP, dirs=("/mnt/conf.d",))
    assert (out.output, out.exit_code) == ("+ [[ mysql =~ -([0-9]+)$ ]]\n+ exit 1\n", 1)
    assert fs.listdir("/mnt/conf.d") == []


# ncat, xbstream and xtrabackup stand in as echo: the shell's part is the same
CLONE_MYSQL = """set -ex
# Skip the clone if data already exists.
[[ -d /var/lib/mysql/mysql ]] && exit 0
# Skip the clone on primary (ordinal index 0).
[[ `hostname` =~ -([0-9]+)$ ]] || exit 1
ordinal=${BASH_REMATCH[1]}
[[ $ordinal -eq 0 ]] && exit 0
# Clone data from previous peer.
echo ncat --recv-only mysql-$(($ordinal-1)).mysql 3307 | cat
# Prepare the backup.
echo xtrabackup --prepare --target-dir=/var/lib/mysql
"""


def test_clone_mysql_skips_when_data_exists_and_on_the_primary():
    assert bash(CLONE_MYSQL, hostname="mysql-1", dirs=("/var/lib/mysql/mysql",)) == (
        "+ [[ -d /var/lib/mysql/mysql ]]\n+ exit 0\n", 0)
    assert bash(CLONE_MYSQL, hostname="mysql-0", dirs=("/var/lib/mysql",)) == (
        "+ [[ -d /var/lib/mysql/mysql ]]\n"
        "++ hostname\n"
        "+ [[ mysql-0 =~ -([0-9]+)$ ]]\n"
        "+ ordinal=0\n"
        "+ [[ 0 -eq 0 ]]\n"
        "+ exit 0\n", 0)


def test_clone_mysql_on_a_replica_clones_from_the_previous_peer():
    assert bash(CLONE_MYSQL, hostname="mysql-2", dirs=("/var/lib/mysql",)) == (
        "+ [[ -d /var/lib/mysql/mysql ]]\n"
        "++ hostname\n"
        "+ [[ mysql-2 =~ -([0-9]+)$ ]]\n"
        "+ ordinal=2\n"
        "+ [[ 2 -eq 0 ]]\n"
        "+ echo ncat --recv-only mysql-1.mysql 3307\n"
        "+ cat\n"
        "ncat --recv-only mysql-1.mysql 3307\n"
        "+ echo xtrabackup --prepare --target-dir=/var/lib/mysql\n"
        "xtrabackup --prepare --target-dir=/var/lib/mysql\n", 0)


# the sidecar up to its mysql and ncat (echo stands in), and without sed (the sandbox has none)
SIDECAR = """set -ex
cd /var/lib/mysql

# Determine binlog position of cloned data, if any.
if [[ -f xtrabackup_slave_info && "x$(<xtrabackup_slave_info)" != "x" ]]; then
  # XtraBackup already generated a partial "CHANGE MASTER TO" query
  # because we're cloning from an existing replica. (Need to remove the tailing semicolon!)
  cat xtrabackup_slave_info > change_master_to.sql.in
  # Ignore xtrabackup_binlog_info in this case (it's useless).
  rm -f xtrabackup_slave_info xtrabackup_binlog_info
elif [[ -f xtrabackup_binlog_info ]]; then
  # We're cloning directly from primary. Parse binlog position.
  [[ `cat xtrabackup_binlog_info` =~ ^(.*?)[[:space:]]+(.*?)$ ]] || exit 1
  rm -f xtrabackup_binlog_info xtrabackup_slave_info
  echo "CHANGE MASTER TO MASTER_LOG_FILE='${BASH_REMATCH[1]}',\\
        MASTER_LOG_POS=${BASH_REMATCH[2]}" > change_master_to.sql.in
fi

# Check if we need to complete a clone by starting replication.
if [[ -f change_master_to.sql.in ]]; then
  echo "Waiting for mysqld to be ready (accepting connections)"
  until true mysql -h 127.0.0.1 -e "SELECT 1"; do sleep 1; done

  echo "Initializing replication from clone position"
  echo mysql -h 127.0.0.1 \\
        -e "$(<change_master_to.sql.in), \\
                MASTER_HOST='mysql-0.mysql', \\
                MASTER_USER='root', \\
                MASTER_PASSWORD='', \\
                MASTER_CONNECT_RETRY=10; \\
              START SLAVE;" || exit 1
  # In case of container restart, attempt this at-most-once.
  mv change_master_to.sql.in change_master_to.sql.orig
fi

# Start a server to send backups when requested by peers.
exec echo ncat --listen --keep-open --send-only --max-conns=1 3307 -c \\
  "xtrabackup --backup --slave-info --stream=xbstream --host=127.0.0.1 --user=root"
"""
SERVE = ("+ exec echo ncat --listen --keep-open --send-only --max-conns=1 3307 -c "
         "'xtrabackup --backup --slave-info --stream=xbstream --host=127.0.0.1 --user=root'\n"
         "ncat --listen --keep-open --send-only --max-conns=1 3307 -c "
         "xtrabackup --backup --slave-info --stream=xbstream --host=127.0.0.1 --user=root\n")
REPLICATION = ("MASTER_HOST='mysql-0.mysql',                 MASTER_USER='root',                 "
               "MASTER_PASSWORD='',                 MASTER_CONNECT_RETRY=10;               START SLAVE;")


def test_the_sidecar_reads_the_binlog_position_of_a_clone_from_the_primary():
    out, fs = start(["bash", "-c", SIDECAR], hostname="mysql-1",
                    files={"/var/lib/mysql/xtrabackup_binlog_info": "mysql-bin.000003\t154\n"})
    query = "CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003',        MASTER_LOG_POS=154"
    quoted = "'CHANGE MASTER TO MASTER_LOG_FILE='\\''mysql-bin.000003'\\'',        MASTER_LOG_POS=154"
    assert (out.output, out.exit_code) == (
        "+ cd /var/lib/mysql\n"
        "+ [[ -f xtrabackup_slave_info ]]\n"
        "+ [[ -f xtrabackup_binlog_info ]]\n"
        "++ cat xtrabackup_binlog_info\n"
        "+ [[ mysql-bin.000003\t154 =~ ^(.*?)[[:space:]]+(.*?)$ ]]\n"
        "+ rm -f xtrabackup_binlog_info xtrabackup_slave_info\n"
        f"+ echo {quoted}'\n"
        "+ [[ -f change_master_to.sql.in ]]\n"
        "+ echo 'Waiting for mysqld to be ready (accepting connections)'\n"
        "Waiting for mysqld to be ready (accepting connections)\n"
        "+ true mysql -h 127.0.0.1 -e 'SELECT 1'\n"
        "+ echo 'Initializing replication from clone position'\n"
        "Initializing replication from clone position\n"
        f"+ echo mysql -h 127.0.0.1 -e {quoted},                 "
        + REPLICATION.replace("'", "'\\''") + "'\n"
        f"mysql -h 127.0.0.1 -e {query},                 {REPLICATION}\n"
        "+ mv change_master_to.sql.in change_master_to.sql.orig\n" + SERVE, 0)
    assert fs.read("/var/lib/mysql/change_master_to.sql.orig").decode() == query + "\n"
    assert fs.listdir("/var/lib/mysql") == ["change_master_to.sql.orig"]


def test_the_sidecar_takes_the_query_of_a_clone_from_a_replica():
    info = "CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=154;\n"
    out, fs = start(["bash", "-c", SIDECAR], hostname="mysql-2",
                    files={"/var/lib/mysql/xtrabackup_slave_info": info,
                           "/var/lib/mysql/xtrabackup_binlog_info": "mysql-bin.000003\t154\n"})
    assert out.exit_code == 0
    assert out.output.startswith(
        "+ cd /var/lib/mysql\n"
        "+ [[ -f xtrabackup_slave_info ]]\n"
        f"+ [[ x{info.strip()} != \\x ]]\n"
        "+ cat xtrabackup_slave_info\n"
        "+ rm -f xtrabackup_slave_info xtrabackup_binlog_info\n"
        "+ [[ -f change_master_to.sql.in ]]\n")
    assert f"\nmysql -h 127.0.0.1 -e {info.strip()},                 {REPLICATION}\n" in out.output
    assert fs.listdir("/var/lib/mysql") == ["change_master_to.sql.orig"]


def test_the_sidecar_without_a_clone_starts_serving_backups_at_once():
    out, fs = start(["bash", "-c", SIDECAR], hostname="mysql-0", files={"/var/lib/mysql/xtrabackup_slave_info": ""})
    assert (out.output, out.exit_code) == (
        "+ cd /var/lib/mysql\n"
        "+ [[ -f xtrabackup_slave_info ]]\n"
        "+ [[ x != \\x ]]\n"
        "+ [[ -f xtrabackup_binlog_info ]]\n"
        "+ [[ -f change_master_to.sql.in ]]\n" + SERVE, 0)
    assert fs.listdir("/var/lib/mysql") == ["xtrabackup_slave_info"]


def test_bash_ic_runs_the_client_loop_for_ever_in_sandbox_time():
    loop = "while sleep 1; do echo mysql -h mysql-read -e 'SELECT @@server_id,NOW()'; done"
    out, _ = start(["bash", "-ic", loop], hostname="mysql-client-loop")
    assert out.runs_forever and out.exit_code is None and out.output == ""
    assert out.output_after_sleep.startswith("mysql -h mysql-read -e SELECT @@server_id,NOW()\n" * 3)
    counted = "n=0; while sleep 1; do n=$((n + 1)); echo $n; [[ $n -lt 3 ]] || exit 4; done"
    out, _ = start(["bash", "-ic", counted])
    assert (out.sleep_seconds, out.output_after_sleep, out.exit_code_after_sleep) == (3.0, "1\n2\n3\n", 4)


# ------------------------------------------------------------------ [[ ]]


def test_a_regex_match_sets_bash_rematch_groups():
    assert bash('[[ abc =~ a(b)(x)?c ]]; echo $? "${BASH_REMATCH[0]}" "${BASH_REMATCH[1]}" "[${BASH_REMATCH[2]}]"') == (
        "0 abc b []\n", 0)
    assert bash("[[ web-12 =~ -([0-9]+)$ ]] && echo ${BASH_REMATCH[1]} $BASH_REMATCH ${#BASH_REMATCH[@]}") == (
        "12 -12 2\n", 0)


def test_a_regex_searches_rather_than_matching_the_whole_string():
    assert bash("[[ xx-abc-yy =~ abc ]]; echo $? $BASH_REMATCH") == ("0 abc\n", 0)
    assert bash("[[ xabc =~ ^abc ]]; echo $?") == ("1\n", 0)


def test_no_match_empties_bash_rematch():
    assert bash("[[ a1 =~ ([0-9]) ]]; [[ abc =~ z ]]; echo $? ${#BASH_REMATCH[@]} [$BASH_REMATCH]") == (
        "1 0 []\n", 0)


def test_an_invalid_regex_is_status_2_and_or_goes_on_past_it():
    assert bash("[[ a =~ * ]]; echo $?; [[ a =~ x{2,1} ]]; echo $?; [[ a =~ * || a == a ]]; echo $?") == (
        "2\n2\n0\n", 0)
    assert bash("[[ a =~ [z ]]; echo $?; [[ a =~ [[:nonsense:]] ]]; echo $?") == ("2\n2\n", 0)


def test_quoted_parts_of_a_regex_are_literal_and_unquoted_expansions_are_regex():
    script = ("re='a.c'; [[ abc =~ $re ]]; echo $?; [[ abc =~ \"$re\" ]]; echo $?; [[ a.c =~ \"$re\" ]]; echo $?; "
              "[[ abc =~ a\\.c ]]; echo $?; [[ '*a' =~ '*' ]]; echo $?; [[ ab =~ a'|'b ]]; echo $?")
    assert bash(script) == ("0\n1\n0\n1\n0\n1\n", 0)


def test_posix_classes_and_stacked_repetitions_match_as_glibc_reads_them():
    # (.*?) is (.*)? in glibc's EREs: greedy, so the first group takes all it can, the last space left to [[:space:]]+
    assert bash("[[ 'a b  c' =~ ^(.*?)[[:space:]]+(.*?)$ ]]; echo \"${BASH_REMATCH[1]}|${BASH_REMATCH[2]}\"") == (
        "a b |c\n", 0)
    assert bash("[[ 'Ab9_' =~ ^[[:upper:]][[:lower:]][[:digit:]][^[:alnum:]]$ ]]; echo $?") == ("0\n", 0)
    # "." matches a newline and "$" is only the very end (no REG_NEWLINE)
    assert bash('x="a\nb"; [[ $x =~ a.b ]]; echo $?; x="a\n"; [[ $x =~ a$ ]]; echo $?') == ("0\n1\n", 0)


def test_double_equals_matches_a_glob_pattern_unless_it_is_quoted():
    script = ("[[ mysql-0 == mysql-* ]]; echo $?; [[ mysql-0 == 'mysql-*' ]]; echo $?; [[ 'mysql-*' == \"mysql-*\" ]]; "
              "echo $?; [[ abc = a?c ]]; echo $?; [[ abc != a[xb]c ]]; echo $?; [[ a1 == a[[:digit:]] ]]; echo $?; "
              "p='a*'; [[ abc == $p ]]; echo $?; [[ abc == \"$p\" ]]; echo $?")
    assert bash(script) == ("0\n1\n0\n0\n1\n0\n0\n1\n", 0)


def test_words_are_not_split_nor_globbed_inside_double_brackets():
    assert bash('x="a   b"; [[ $x == "a   b" ]]; echo $?; [[ * == "*" ]]; echo $?; [[ -n $unset ]]; echo $?') == (
        "0\n0\n1\n", 0)


def test_string_order_and_arithmetic_comparisons():
    script = ("[[ abc < abd ]]; echo $?; [[ b > a ]]; echo $?; [[ 10 < 9 ]]; echo $?; [[ 10 -lt 9 ]]; echo $?; "
              "n=3; [[ n+1 -eq 4 ]]; echo $?; [[ $n -ge 3 && $n -le 3 && $n -ne 2 && $n -gt 2 ]]; echo $?; "
              "[[ 010 -eq 8 ]]; echo $?; [[ '' -eq 0 ]]; echo $?")
    assert bash(script) == ("0\n0\n0\n1\n0\n0\n0\n0\n", 0)


def test_a_bad_arithmetic_operand_says_so_and_is_false():
    assert bash("[[ 08 -eq 8 ]]; echo $?") == (
        'bash: [[: 08: value too great for base (error token is "08")\n1\n', 0)


def test_unary_file_and_string_tests_see_the_containers_filesystem():
    script = ("cd /data; [[ -f f ]]; echo $?; [[ -d f ]]; echo $?; [[ -d /data ]]; echo $?; [[ -e nope ]]; echo $?; "
              "[[ -s empty ]]; echo $?; [[ -s f ]]; echo $?; [[ -z '' && -n x ]]; echo $?; ln -s f link; "
              "[[ -L link && -h link && ! -L f ]]; echo $?; [[ -x /bin/sh ]]; echo $?; [[ -x f ]]; echo $?; "
              "[[ -v HOME && ! -v NOPE ]]; echo $?")
    out = bash(script, files={"/data/f": "x\n", "/data/empty": ""})
    assert out == ("0\n1\n0\n1\n1\n0\n0\n0\n0\n1\n0\n", 0)


def test_not_and_or_and_parentheses_combine_with_bashs_precedence():
    script = ("[[ a == b || a == a && b == b ]]; echo $?; [[ ( a == b || a == a ) && b == c ]]; echo $?; "
              "[[ ! a == b ]]; echo $?; [[ ! ( a == a ) ]]; echo $?; [[ ! ! a == a ]]; echo $?; "
              "[[ x ]]; echo $?; [[ '' ]]; echo $?")
    assert bash(script) == ("0\n1\n0\n1\n0\n0\n1\n", 0)


def test_double_brackets_work_after_if_elif_while_until_and_in_and_or_lists():
    script = ("n=0; while [[ $n -lt 2 ]]; do n=$((n+1)); done; until [[ $n -eq 4 ]]; do n=$((n+1)); done; "
              "if [[ $n -eq 1 ]]; then echo one; elif [[ $n == 4 ]]; then echo four; fi; "
              "[[ $n -eq 4 ]] && echo yes || echo no; [[ $n -eq 5 ]] && echo yes || echo no")
    assert bash(script) == ("four\nyes\nno\n", 0)


def test_a_double_bracket_syntax_error_is_reported_as_bash_does_and_nothing_runs():
    assert bash("echo first\n[[ a b ]]") == (
        "bash: -c: line 2: conditional binary operator expected\n"
        "bash: -c: line 2: syntax error near `b'\n"
        "bash: -c: line 2: `[[ a b ]]'\n", 2)
    assert bash("[[ -f ]]") == (
        "bash: -c: line 1: unexpected argument `]]' to conditional unary operator\n"
        "bash: -c: line 1: syntax error near `]]'\n"
        "bash: -c: line 1: `[[ -f ]]'\n", 2)
    assert bash("[[ a ]] b", ) == (
        "bash: -c: line 1: syntax error near unexpected token `b'\nbash: -c: line 1: `[[ a ]] b'\n", 2)
    assert bash("[[ -n x") == ("bash: -c: line 1: unexpected EOF while looking for `]]'\n"
                               "bash: -c: line 1: syntax error: unexpected end of file\n", 2)
    assert bash("[[ a == ]]", "myname")[0].startswith(
        "myname: -c: line 1: unexpected argument `]]' to conditional binary operator\n")


def test_a_bash_reading_its_stdin_reports_a_syntax_error_without_a_line_and_goes_on():
    from stsnb.sandbox.node.programs.process import Process

    chunks: list[bytes] = []
    ctx = ProgramContext({"metadata": {"name": "p", "namespace": "default"}, "spec": {}},
                         {"name": "c", "image": "debian", "stdin": True}, _no_dns, "10.96.0.10", [])
    proc = Process(ctx, ["bash"], tty=False, on_output=lambda ch, d: chunks.append(d),
                   on_exit=lambda c, r: None).start()
    proc.write(b"[[ a b ]]\necho $?\n")
    proc.close_stdin()
    proc.wait(5)
    assert b"".join(chunks).decode() == (
        "bash: conditional binary operator expected\nbash: syntax error near `b'\n2\n")


def test_dash_has_no_double_brackets_and_says_not_found():
    assert sh("[[ -d /tmp ]] && exit 0; echo status $?") == ("sh: 1: [[: not found\nstatus 127\n", 0)


def test_busybox_ash_has_double_brackets():
    assert sh("[[ abc == a* && -d /tmp ]] && echo yes", image="busybox") == ("yes\n", 0)


# ------------------------------------------------------------------ arrays and $(<file)


def test_all_elements_of_bash_rematch_in_double_quotes_are_separate_words():
    script = ('[[ "a b-c" =~ (a b)-(c) ]]; for w in "${BASH_REMATCH[@]}"; do echo "<$w>"; done; '
              'echo "${BASH_REMATCH[*]}" ${#BASH_REMATCH[@]} ${#BASH_REMATCH[1]} ${BASH_REMATCH[-1]}; '
              '[[ x =~ y ]]; for w in "${BASH_REMATCH[@]}"; do echo never; done; echo end')
    assert bash(script) == ("<a b-c>\n<a b>\n<c>\na b-c a b c 3 3 c\nend\n", 0)


def test_arrays_stay_out_of_the_environment_of_programs():
    assert bash("[[ ab =~ (a) ]]; env | grep -c BASH_REMATCH; printenv BASH_REMATCH; echo $?") == ("0\n1\n", 0)


def test_dash_has_no_arrays():
    out, code = sh("echo ${BASH_REMATCH[1]}")
    assert code == 2 and "not supported by the stsnb sandbox shell" in out


def test_dollar_less_than_file_is_the_file_without_its_trailing_newlines():
    files = {"/data/info": "line one\nline two\n\n\n"}
    assert bash('echo "[$(<data/info)]"; cd /data; x=$(< "info"); echo "[$x]" $?', files=files) == (
        "[line one\nline two]\n[line one\nline two] 0\n", 0)


def test_dollar_less_than_a_missing_file_says_so_and_expands_to_nothing():
    assert bash('x="$(<nope)"; echo "[$x]" $?') == ("bash: nope: No such file or directory\n[] 1\n", 0)


def test_an_assignment_alone_has_the_status_of_its_command_substitution():
    assert bash("x=$(false); echo $?; x=$(true); echo $?; x=1; echo $?") == ("1\n0\n0\n", 0)


def test_the_value_of_an_assignment_is_not_split():
    assert bash("x=$(printf 'a   b') y=`printf 'c  d'`; echo \"$x|$y\"; z=$x printenv z") == ("a   b|c  d\na   b\n", 0)
    assert sh("x=$(printf 'a   b'); echo \"$x\"; echo $(printf '1   2')") == ("a   b\n1 2\n", 0)


# ------------------------------------------------------------------ set -x, flags, lines


def test_set_x_traces_each_command_with_bashs_quoting():
    script = ("set -x; a=1 b='x y' c=; echo \"[m]\" 'it''s' '' \"a b\" plain=ok '~x' x~ 'a=~b' '#c' d#; "
              "d=\"$(printf 'a\\tb')\"; set +x; echo quiet")
    assert bash(script) == (
        "+ a=1\n+ b='x y'\n+ c=\n"
        "+ echo '[m]' its '' 'a b' plain=ok '~x' x~ 'a=~b' '#c' d#\n"
        "[m] its  a b plain=ok ~x x~ a=~b #c d#\n"
        "++ printf 'a\\tb'\n+ d='a\tb'\n+ set +x\nquiet\n", 0)


def test_xtrace_quotes_as_bash_does():
    assert [xtrace_quote(w) for w in ["plain", "", "a b", "[mysqld]", "it's", "'", "$x", "a;b", "~", "#x", "x#",
                                      "a\rb", "key=~v", "x=y"]] == [
        "plain", "''", "'a b'", "'[mysqld]'", "'it'\\''s'", "\\'", "'$x'", "'a;b'", "'~'", "'#x'", "x#",
        "$'a\\rb'", "'key=~v'", "x=y"]
    assert xtrace_quote("", assignment=True) == ""


def test_set_x_traces_command_substitutions_one_plus_deeper():
    assert bash("set -x; echo $(echo `echo hi`)") == ("+++ echo hi\n++ echo hi\n+ echo hi\nhi\n", 0)


def test_set_x_traces_each_test_of_a_double_bracket_with_bashs_forms():
    script = 'set -x; [[ -f /nope || ! -d /nope && "$HOME" == "/ro"* && "" ]]; [[ a.b =~ "a.b"c ]]'
    assert bash(script) == (
        "+ [[ -f /nope ]]\n+ [[ ! -d /nope ]]\n"
        "+ [[ /root == \\/\\r\\o* ]]\n+ [[ -n '' ]]\n"
        "+ [[ a.b =~ a\\.bc ]]\n", 1)


def test_bash_x_and_combined_flags_work():
    assert start(["bash", "-x", "-c", "echo hi"])[0].output == "+ echo hi\nhi\n"
    assert start(["bash", "-xc", "echo hi"])[0].output == "+ echo hi\nhi\n"
    out, _ = start(["bash", "-ec", "false; echo never"])
    assert (out.output, out.exit_code) == ("", 1)
    out, _ = start(["bash", "-ic", "echo $0 $1", "name", "one"])
    assert (out.output, out.exit_code) == ("name one\n", 0)
    out, _ = start(["bash", "--norc", "-o", "errexit", "-c", "false; echo never"])
    assert (out.output, out.exit_code) == ("", 1)
    out, _ = start(["bash", "-c"])
    assert (out.output, out.exit_code) == ("bash: -c: option requires an argument\n", 2)


def test_set_ex_sets_both_options_and_a_failing_condition_does_not_stop_the_shell():
    script = ("set -ex; if [[ a == b ]]; then echo then; else echo else; fi; while false; do :; done; "
              "[[ a == b ]] && echo no; echo still; false; echo never")
    assert bash(script) == (
        "+ [[ a == b ]]\n+ echo else\nelse\n+ false\n+ [[ a == b ]]\n+ echo still\nstill\n+ false\n", 1)
    assert sh("set -e; if false; then :; fi; until true; do :; done; echo survived; false; echo never") == (
        "survived\n", 1)


def test_set_o_xtrace_and_errexit_and_their_plus_forms():
    assert bash("set -o xtrace; echo a; set +o xtrace; set -o errexit; set +e; false; echo b") == (
        "+ echo a\na\n+ set +o xtrace\nb\n", 0)


def test_command_substitutions_clear_set_e_in_bash_but_not_in_dash():
    assert bash('set -e; x=$(false; echo went on); echo "$x"') == ("went on\n", 0)
    assert sh('set -e; x=$(false; echo went on); echo "[$x]"') == ("", 1)


def test_dash_traces_one_unquoted_line_per_command():
    assert sh("set -x; a=1 echo 'x y' $(echo in)") == ("+ echo in\n+ a=1 echo x y in\nx y in\n", 0)


def test_line_continuations_join_lines_in_plain_words_and_in_double_quotes():
    script = 'echo a\\\nb "c\\\nd" \\\n  e\necho "x,\\\n   y"'
    assert bash(script) == ("ab cd e\nx,   y\n", 0)


def test_comments_and_blank_lines_are_ignored():
    assert bash("\n# a comment with \"quotes\" and (parens)\n\n  # indented\necho one # trailing\n\n") == ("one\n", 0)


def test_bash_errors_are_prefixed_bash():
    assert bash("cd /nope; echo $?; echo x > /no/dir/f; echo $?; exit z") == (
        "bash: cd: /nope: No such file or directory\n1\n"
        "bash: /no/dir/f: No such file or directory\n1\n"
        "bash: exit: z: numeric argument required\n", 2)


# ------------------------------------------------------------------ the translations


@pytest.mark.parametrize("ere, python", [
    ("-([0-9]+)$", r"\-([0-9]+)\Z"),
    ("^(.*?)[[:space:]]+(.*?)$", "^((?:.*)?)[ \\t\\n\\r\\f\\v]+((?:.*)?)\\Z"),
    ("a{2,3}b|c", "a{2,3}b|c"),
    ("[]a-]", r"[\]a-]"),
    ("[^[:digit:]\\]", r"[^0-9\\]"),
    ("\\<w\\>", r"\b(?=\w)w\b(?<=\w)"),
    ("a)", r"a\)"),
])
def test_an_ere_translates_for_pythons_re(ere, python):
    assert ere_regex([(ch, False) for ch in ere]) == python


@pytest.mark.parametrize("ere", ["*a", "a|*", "(+a)", "^*", "(a", "[a", "a\\", "[[:bogus:]]"])
def test_an_invalid_ere_is_refused(ere):
    with pytest.raises(ValueError):
        ere_regex([(ch, False) for ch in ere])


def test_a_glob_with_a_bad_bracket_matches_nothing_and_an_unclosed_one_is_literal():
    assert glob_regex([(ch, False) for ch in "[[:bogus:]]"]).fullmatch("a") is None
    assert glob_regex([(ch, False) for ch in "a[b"]).fullmatch("a[b") is not None
    assert glob_regex([(ch, False) for ch in "[!a]x"]).fullmatch("bx") is not None


def test_a_missing_command_under_bash_is_command_not_found_with_status_127():
    out, code = bash("nope; echo $?")
    assert out.startswith("bash: nope: command not found\n") and out.endswith("127\n") and code == 0


@pytest.mark.parametrize("argv, reads", [
    (["sh"], True), (["/bin/sh", "-i"], True), (["bash", "-ic", "while sleep 1; do date; done"], False),
    (["sh", "-c", "read x"], False), (["bash", "-ec", "true"], False),
    (["mysql", "-h", "mysql-0.mysql"], True), (["mysql", "-h", "mysql-read", "-e", "SELECT 1"], False),
    (["docker-entrypoint.sh", "mysql", "-h", "mysql"], True), (["docker-entrypoint.sh", "mysqld"], False),
    (["nginx", "-g", "daemon off;"], False), (["cat"], True), (["cat", "-"], True), (["cat", "/etc/hosts"], False),
])
def test_only_programs_that_read_their_stdin_wait_for_what_kubectl_attaches(argv, reads):
    from stsnb.sandbox.node.programs import reads_stdin
    assert reads_stdin(argv) is reads
