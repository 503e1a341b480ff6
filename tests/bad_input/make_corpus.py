#!/usr/bin/env python3
"""Writes the bad-input corpus: one file per case, and MANIFEST.tsv with, for
each file, a part of the message the coordinator must answer with (the field
and the fix). tests/integration/bad_input_corpus_test.cc submits every file
through the real CLI. Run it again after adding a case; the files are checked in."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
cases = []  # (file name, bytes, expected substring)


def case(name, content, expect):
    if isinstance(content, str):
        content = content.encode()
    cases.append((name, content, expect))


JOB = "jobs: [{name: a, kind: exec, command: x}]\n"

# --- Resource exhaustion from tiny inputs -----------------------------------
def bomb(levels, width, style):
    text = "name: lol\n"
    if style == "list":
        text += "l0: &l0 [" + ", ".join(["x"] * width) + "]\n"
        for i in range(1, levels + 1):
            text += f"l{i}: &l{i} [" + ", ".join([f"*l{i-1}"] * width) + "]\n"
    elif style == "map":
        text += "l0: &l0 {" + ", ".join(f"k{j}: x" for j in range(width)) + "}\n"
        for i in range(1, levels + 1):
            text += f"l{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i-1}" for j in range(width)) + "}\n"
    return text + JOB

case("alias-bomb-lists-9x9.yaml", bomb(9, 9, "list"), "--max-yaml-nodes")
case("alias-bomb-lists-10x10.yaml", bomb(10, 10, "list"), "--max-yaml-nodes")
case("alias-bomb-maps.yaml", bomb(8, 10, "map"), "--max-yaml-nodes")
case("alias-bomb-wide.yaml", bomb(3, 80, "list"), "--max-yaml-nodes")
case("alias-bomb-in-params.yaml",
     "name: lol\njobs:\n  - name: a\n    kind: worker\n    suite: selftest\n    params:\n"
     "      l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" +
     "".join(f"      l{i}: &l{i} [" + ", ".join([f"*l{i-1}"] * 10) + "]\n" for i in range(1, 8)),
     "--max-yaml-nodes")
case("alias-bomb-in-matrix.yaml",
     "name: lol\nv: &v [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nw: &w [*v, *v, *v, *v, *v, *v, *v, *v, *v, *v]\n"
     "x: &x [*w, *w, *w, *w, *w, *w, *w, *w, *w, *w]\ny: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]\n"
     "z: &z [*y, *y, *y, *y, *y, *y, *y, *y, *y, *y]\njobs: [{name: a, kind: exec, command: x, matrix: {n: *z}}]\n",
     "--max-yaml-nodes")
case("alias-cycle-list.yaml", "name: x\nc: &c [1, *c]\n" + JOB, "2:11: this alias refers to a node that contains it")
case("alias-cycle-map.yaml", "name: x\nm: &m {k: {j: *m}}\n" + JOB, "(a cycle)")
case("deep-flow-lists.yaml", "name: deep\nx: " + "[" * 200 + "]" * 200 + "\n" + JOB, "--max-yaml-depth")
case("deep-flow-maps.yaml", "name: deep\nx: " + "{a: " * 100 + "1" + "}" * 100 + "\n" + JOB, "--max-yaml-depth")
case("deep-block-maps.yaml",
     "name: deep\nx:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(80)) + "  " * 81 + "v: 1\n" + JOB,
     "--max-yaml-depth")
case("deep-in-params.yaml",
     "name: deep\njobs: [{name: a, kind: worker, suite: selftest, params: {p: " + "[" * 90 + "]" * 90 + "}}]\n",
     "--max-yaml-depth")


def matrix(variables, values, name="a"):
    text = f"  - name: {name}\n    kind: exec\n    command: x\n    matrix:\n"
    for v in range(variables):
        text += f"      v{v}: [" + ", ".join(str(i) for i in range(values)) + "]\n"
    return text

case("matrix-1e8.yaml", "name: big\njobs:\n" + matrix(8, 10), "matrix: 100000000 combinations")
case("matrix-1e20.yaml", "name: big\njobs:\n" + matrix(20, 10), "--max-jobs-per-sweep")
case("matrix-1e40-saturates.yaml", "name: big\njobs:\n" + matrix(40, 10), "more than 10^19 combinations")
case("matrix-two-templates-sum.yaml",
     "name: big\njobs:\n" + matrix(2, 400, "a") + matrix(2, 400, "b"), "--max-jobs-per-sweep")
case("matrix-exec-list.yaml",
     "name: big\nexec:\n  - name: a\n    command: x\n    matrix:\n" +
     "".join(f"      v{v}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for v in range(7)), "--max-jobs-per-sweep")
case("matrix-worker.yaml",
     "name: big\njobs:\n  - name: a\n    kind: worker\n    suite: selftest\n    matrix:\n" +
     "".join(f"      v{v}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for v in range(6)), "--max-jobs-per-sweep")
case("dependency-all-to-all.yaml",
     "name: edges\njobs:\n" + matrix(1, 1500, "a").replace("v0", "i") +
     matrix(1, 1500, "b").replace("v0", "j").replace("command: x\n", "command: x\n    depends_on: a\n"),
     "--max-dependency-edges")
CRITERIA = "criteria.json"
MODEL = ("name: llm\nmodels: [{variant: org/m, dtypes: [fp16], tp: [1]}]\n"
         "programs: {criteria: " + CRITERIA + ", select: ['*']}\ndatasets: [{type: sharegpt, path: /d.json}]\n")
case("program-search-1m-context.yaml",
     MODEL + "context_lengths: [{context: 1048576, max_batch: 4096, batch_tkv_limit: 4294967296}]\n",
     "--max-program-search")
case("program-search-wide-batch.yaml",
     MODEL + "context_lengths: [{context: 262144, max_batch: 1024, batch_tkv_limit: 4294967296}]\n",
     "--max-program-search")
case("program-search-second-context.yaml",
     MODEL + "context_lengths: [4096, {context: 524288, max_batch: 2048, batch_tkv_limit: 4294967296}]\n",
     "--max-program-search")

# --- Message sizes -----------------------------------------------------------
case("command-70k-string.yaml", "name: big\njobs: [{name: a, kind: exec, command: '" + "x" * 70000 + "'}]\n",
     "jobs[0].command: is 70004 bytes")
case("command-many-args.yaml",
     "name: big\njobs: [{name: a, kind: exec, command: [" + ", ".join(["abcdefghij"] * 7000) + "]}]\n",
     "--max-command-bytes")
case("command-exec-list.yaml", "name: big\nexec: [{name: a, command: '" + "y" * 66000 + "'}]\n", "exec[0].command: is")
case("env-70k.yaml", "name: big\njobs: [{name: a, kind: exec, command: x, env: {A: '" + "v" * 70000 + "'}}]\n",
     "jobs[0].env: holds 70001 bytes")
case("env-many-vars.yaml",
     "name: big\njobs: [{name: a, kind: exec, command: x, env: {" +
     ", ".join(f"V{i}: '{'v' * 100}'" for i in range(700)) + "}}]\n", "--max-env-bytes")
case("labels-too-many.yaml",
     "name: l\njobs: [{name: a, kind: exec, command: x, labels: {" + ", ".join(f"k{i}: v" for i in range(40)) + "}}]\n",
     "jobs[0].labels: 40 labels, over the limit of 32")

# --- Names -------------------------------------------------------------------
for i, (label, why) in enumerate([("'my label'", "contains ' '"), ("'a/b'", "contains '/'"),
                                  ("\"a'b\"", "contains '''"), ("'-lead'", "starts with '-'"),
                                  ("'ünï'", "a byte that is not ASCII"), ("'" + "k" * 64 + "'", "64 bytes long"),
                                  ("'a;drop'", "contains ';'")]):
    case(f"label-name-{i}.yaml", "name: l\njobs: [{name: a, kind: exec, command: x, labels: {" + label + ": v}}]\n",
         "jobs[0].labels: label name")
case("label-value-newline.yaml", "name: l\njobs: [{name: a, kind: exec, command: x, labels: {k: \"a\\nb\"}}]\n",
     "jobs[0].labels.k: the value contains a control character")
case("label-value-long.yaml", "name: l\njobs: [{name: a, kind: exec, command: x, labels: {k: '" + "v" * 300 + "'}}]\n",
     "jobs[0].labels.k: the value is 300 bytes long")
for i, tag in enumerate(["'gpu node'", "''", "'-x'", "'a,b'", "'x/y'"]):
    case(f"tag-{i}.yaml", "name: t\nresources: {tags: [" + tag + "]}\n" + JOB, "resources.tags[0]: tag")
case("sweep-name-space.yaml", "name: 'my sweep'\n" + JOB, "name: 'my sweep' must use only letters")
case("job-name-slash.yaml", "name: s\njobs: [{name: 'a/b', kind: exec, command: x}]\n", "jobs[0].name: 'a/b' must start")
case("env-name-space.yaml", "name: s\njobs: [{name: a, kind: exec, command: x, env: {'A B': v}}]\n",
     "'A B' is not an environment variable name")
case("env-name-equals.yaml", "name: s\njobs: [{name: a, kind: exec, command: x, env: {'A=B': v}}]\n",
     "'A=B' is not an environment variable name")
case("matrix-variable-name.yaml", "name: s\njobs: [{name: a, kind: exec, command: x, matrix: {'a-b': [1]}}]\n",
     "variable names use letters")

# --- Wrongly accepted specs ---------------------------------------------------
case("duplicate-top-level.yaml", "name: a\nname: b\n" + JOB, "2:1: 'name' is written twice")
case("duplicate-jobs.yaml", "name: a\njobs: [{name: x, kind: exec, command: y}]\njobs: []\n", "'jobs' is written twice")
case("duplicate-job-field.yaml", "name: a\njobs:\n  - name: x\n    kind: exec\n    command: y\n    command: z\n",
     "6:5: 'command' is written twice")
case("duplicate-in-params.yaml",
     "name: a\njobs: [{name: x, kind: worker, suite: selftest, params: {n: 1, n: 2}}]\n", "'n' is written twice")
case("duplicate-in-env.yaml", "name: a\njobs: [{name: x, kind: exec, command: y, env: {A: 1, A: 2}}]\n",
     "'A' is written twice")
case("duplicate-in-matrix.yaml", "name: a\njobs: [{name: x, kind: exec, command: y, matrix: {n: [1], n: [2]}}]\n",
     "'n' is written twice")
case("duplicate-in-labels.yaml", "name: a\njobs: [{name: x, kind: exec, command: y, labels: {k: 1, k: 2}}]\n",
     "'k' is written twice")
case("duplicate-json.json", '{"name": "a", "name": "b", "jobs": [{"name": "x", "kind": "exec", "command": "y"}]}',
     "'name' is written twice")
case("duplicate-quoted-vs-plain.yaml", "name: a\n'name': b\n" + JOB, "'name' is written twice")
case("json-trailing-garbage.json", '{"name": "a", "jobs": [{"name": "x", "kind": "exec", "command": "y"}]} garbage',
     "content after the end of the spec")
case("json-trailing-object.json",
     '{"name": "a", "jobs": [{"name": "x", "kind": "exec", "command": "y"}]}\n{"name": "b"}\n',
     "content after the end of the spec")
case("json-trailing-number.json", '{"name": "a", "jobs": [{"name": "x", "kind": "exec", "command": "y"}]} 42',
     "content after the end of the spec")
case("yaml-second-document.yaml", "name: a\n" + JOB + "---\nname: b\n" + JOB, "4:1: content after the end of the spec")
case("yaml-document-end-then-text.yaml", "name: a\n" + JOB + "...\nmore: text\n", "content after the end of the spec")
case("unknown-suite.yaml", "name: s\njobs: [{name: a, kind: worker, suite: selftset}]\n",
     "suite 'selftset' is not built into any agent's worker")
case("unknown-suite-second-job.yaml",
     "name: s\njobs:\n  - {name: a, kind: worker, suite: selftest}\n  - {name: b, kind: worker, suite: nope}\n",
     "4:5: job 'b': suite 'nope' is not built into any agent's worker")
case("unknown-suite-matrix.yaml",
     "name: s\njobs: [{name: a, kind: worker, suite: 'bench', matrix: {n: [1, 2]}}]\n", "suite 'bench' is not built")
CRIT_MODEL = ("name: llm\nmodels: [{variant: org/m, dtypes: [fp16], tp: [1]}]\ncontext_lengths: [4096]\n"
              "datasets: [{type: sharegpt, path: /d.json}]\n")
case("selector-one-dead.yaml", CRIT_MODEL + "programs: {criteria: " + CRITERIA + ", select: ['0:0,<4096', '0:8,<4096']}\n",
     "programs.select: [0:8,<4096] matches no program")
case("selector-all-dead.yaml", CRIT_MODEL + "programs: {criteria: " + CRITERIA + ", select: ['0:8,<4096']}\n",
     "programs.select: [0:8,<4096] matches no program")
case("selector-missing-program.yaml", CRIT_MODEL + "programs: {criteria: " + CRITERIA + ", select: ['9:0,<4096']}\n",
     "programs.select[0]: '9:0,<4096'")

# --- Encodings -----------------------------------------------------------------
case("latin1.yaml", b"name: caf\xe9\n" + JOB.encode(), "1:11: not valid UTF-8")
case("lone-continuation.yaml", b"name: a\x80b\n" + JOB.encode(), "not valid UTF-8")
case("overlong-slash.yaml", b"name: a\xc0\xafb\n" + JOB.encode(), "not valid UTF-8")
case("truncated-multibyte.yaml", b"name: a\xe2\x82\n" + JOB.encode(), "not valid UTF-8")
case("surrogate.yaml", b"name: a\xed\xa0\x80\n" + JOB.encode(), "not valid UTF-8")
case("utf16-bom.yaml", "\ufeffname: a\n".encode("utf-16-le"), "(is this a binary file?)")
case("png-header.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not valid UTF-8 (is this a binary file?)")
case("elf-header.yaml", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8, "control character 0x7F")
case("gzip-header.yaml", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "(is this a binary file?)")
case("unit-separator.yaml", b"name: a\x1fb\n" + JOB.encode(), "control character 0x1F")
case("random-bytes.yaml", bytes((i * 97 + 13) % 256 for i in range(64)), "(is this a binary file?)")
case("nul-in-value.yaml", b"name: a\x00b\n" + JOB.encode(), "1:8: control character 0x00 (NUL)")
case("nul-at-start.yaml", b"\x00name: a\n" + JOB.encode(), "1:1: control character 0x00 (NUL)")
case("nul-in-command.yaml", b"name: a\njobs: [{name: a, kind: exec, command: \"x\x00y\"}]\n", "control character 0x00 (NUL)")
case("escape-sequence.yaml", b"name: \x1b[31mred\n" + JOB.encode(), "control character 0x1B")
case("bell.yaml", b"name: a\x07\n" + JOB.encode(), "control character 0x07")
case("escaped-nul-in-command.yaml", "name: a\njobs: [{name: a, kind: exec, command: \"x\\0y\"}]\n",
     "2:39: jobs[0].command: decodes to a NUL byte")
case("escaped-nul-in-env.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, env: {A: \"\\x00\"}}]\n",
     "jobs[0].env.A: decodes to a NUL byte")

# --- Types, structure and references (our own) ----------------------------------
own = [
    ("empty.yaml", "", "the spec must be a mapping"),
    ("only-comment.yaml", "# nothing here\n", "the spec must be a mapping"),
    ("root-list.yaml", "- a\n- b\n", "the spec must be a mapping"),
    ("root-scalar.yaml", "hello\n", "the spec must be a mapping"),
    ("no-name.yaml", JOB, "name: missing"),
    ("no-jobs.yaml", "name: a\n", "jobs: missing"),
    ("jobs-empty.yaml", "name: a\njobs: []\n", "jobs: a list must be a non-empty list of jobs"),
    ("jobs-mapping.yaml", "name: a\njobs: {a: 1}\n", "jobs: a mapping must be a non-empty list"),
    ("job-scalar.yaml", "name: a\njobs: [x]\n", "jobs[0]: 'x' must be a mapping"),
    ("job-no-name.yaml", "name: a\njobs: [{kind: exec, command: x}]\n", "jobs[0].name: missing"),
    ("job-no-kind.yaml", "name: a\njobs: [{name: a, command: x}]\n", "jobs[0].kind: missing"),
    ("job-bad-kind.yaml", "name: a\njobs: [{name: a, kind: shell, command: x}]\n", "jobs[0].kind: 'shell' is not a job kind"),
    ("exec-no-command.yaml", "name: a\njobs: [{name: a, kind: exec}]\n", "jobs[0].command: missing"),
    ("exec-empty-argv.yaml", "name: a\njobs: [{name: a, kind: exec, command: []}]\n", "jobs[0].command: must not be empty"),
    ("exec-argv-nested.yaml", "name: a\njobs: [{name: a, kind: exec, command: [[x]]}]\n", "jobs[0].command[0]: a list must be a string"),
    ("worker-no-suite.yaml", "name: a\njobs: [{name: a, kind: worker}]\n", "jobs[0].suite: missing"),
    ("worker-with-command.yaml", "name: a\njobs: [{name: a, kind: worker, suite: selftest, command: x}]\n",
     "jobs[0].command: applies to kind exec only"),
    ("exec-with-suite.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, suite: selftest}]\n",
     "jobs[0].suite: applies to kind worker only"),
    ("bad-backend.yaml", "name: a\njobs: [{name: a, kind: worker, suite: selftest, backend: tpu}]\n",
     "jobs[0].backend: 'tpu' is not a backend"),
    ("params-list.yaml", "name: a\njobs: [{name: a, kind: worker, suite: selftest, params: [1]}]\n",
     "jobs[0].params: a list must be a mapping"),
    ("devices-zero.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, devices: 0}]\n", "jobs[0].devices: '0' must be an integer from 1"),
    ("devices-negative.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, devices: -3}]\n", "jobs[0].devices: '-3'"),
    ("devices-word.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, devices: two}]\n", "jobs[0].devices: 'two'"),
    ("devices-huge.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, devices: 99999999999}]\n", "jobs[0].devices:"),
    ("devices-too-wide.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, devices: 64}]\n",
     "devices: 64 devices are needed on one node"),
    ("priority-huge.yaml", "name: a\npriority: 5000\n" + JOB, "priority: '5000' must be an integer from -1000 to 1000"),
    ("max-attempts-zero.yaml", "name: a\nmax_attempts: 0\n" + JOB, "max_attempts: '0' must be an integer from 1"),
    ("timeout-word.yaml", "name: a\ntimeout: soon\n" + JOB, "timeout: 'soon' must be a duration"),
    ("timeout-list.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, timeout: [1]}]\n", "jobs[0].timeout: a list must be a duration"),
    ("unknown-top-field.yaml", "name: a\nretries: 3\n" + JOB, "retries: unknown field"),
    ("unknown-job-field.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, retries: 3}]\n",
     "jobs[0].retries: unknown field; allowed fields:"),
    ("retry-not-a-list.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, retry: 3}]\n",
     "jobs[0].retry: '3' must be a list"),
    ("misspelt-depends.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, depend_on: b}]\n", "did you mean 'depends_on'?"),
    ("depends-unknown.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, depends_on: ghost}]\n",
     "depends_on: 'ghost' is not the name of a job"),
    ("depends-self.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, depends_on: a}]\n", "depends on itself"),
    ("depends-cycle.yaml",
     "name: a\njobs:\n- {name: a, kind: exec, command: x, depends_on: b}\n- {name: b, kind: exec, command: x, depends_on: a}\n",
     "depends_on: cycle a -> b -> a"),
    ("duplicate-job-names.yaml", "name: a\njobs: [{name: a, kind: exec, command: x}, {name: a, kind: exec, command: y}]\n",
     "jobs[1].name: 'a' is used by an earlier job"),
    ("matrix-empty-list.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, matrix: {n: []}}]\n",
     "jobs[0].matrix.n: a list must be a non-empty list"),
    ("matrix-scalar.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, matrix: {n: 3}}]\n", "jobs[0].matrix.n: '3' must be a non-empty list"),
    ("matrix-nested-value.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, matrix: {n: [[1]]}}]\n",
     "jobs[0].matrix.n[0]: matrix values must be scalars"),
    ("matrix-list.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, matrix: [1, 2]}]\n",
     "jobs[0].matrix: a list must map variable names"),
    ("unknown-variable.yaml", "name: a\njobs: [{name: a, kind: exec, command: 'echo ${size}'}]\n",
     "'${size}' is not a matrix variable of job 'a'"),
    ("unknown-variable-env.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, env: {A: '${n}'}}]\n",
     "jobs[0].env.A: '${n}' is not a matrix variable"),
    ("unknown-variable-params.yaml", "name: a\njobs: [{name: a, kind: worker, suite: selftest, params: {p: '${q}'}}]\n",
     "jobs[0].params: '${q}' is not a matrix variable"),
    ("env-not-map.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, env: [A]}]\n", "jobs[0].env: a list must map names"),
    ("labels-not-map.yaml", "name: a\njobs: [{name: a, kind: exec, command: x, labels: [k]}]\n",
     "jobs[0].labels: a list must map names"),
    ("exec-list-with-kind.yaml", "name: a\nexec: [{name: a, kind: worker, suite: selftest}]\n",
     "exec[0].kind: entries of exec: are exec jobs"),
    ("models-without-contexts.yaml", "name: a\nmodels: [{variant: org/m}]\n", "context_lengths: missing"),
    ("contexts-without-models.yaml", "name: a\ncontext_lengths: [4096]\n" + JOB, "context_lengths: applies to the model matrix"),
    ("resources-list.yaml", "name: a\nresources: [gpu]\n" + JOB, "resources: a list must be a mapping"),
    ("defaults-list.yaml", "name: a\ndefaults: [1]\n" + JOB, "defaults: a list must be a mapping"),
    ("defaults-unknown.yaml", "name: a\ndefaults: {gpus: 2}\n" + JOB, "defaults.gpus: unknown field"),
    ("malformed-flow.yaml", "name: x\njobs: [{name: a", "not valid YAML or JSON"),
    ("malformed-indent.yaml", "name: x\njobs:\n  - name: a\n   kind: exec\n", "not valid YAML or JSON"),
    ("malformed-json.json", '{"name": "x", "jobs": [}', "not valid YAML or JSON"),
    ("unknown-escape.yaml", 'name: "a\\qb"\n' + JOB, "not valid YAML or JSON: unknown escape character"),
    ("undefined-alias.yaml", "name: *nothing\n" + JOB, "not valid YAML or JSON"),
    ("tab-indent.yaml", "name: x\njobs:\n\t- name: a\n", "not valid YAML or JSON"),
]
for name, text, expect in own:
    case(name, text, expect)

os.makedirs(CORPUS, exist_ok=True)
for old in os.listdir(CORPUS):
    os.remove(os.path.join(CORPUS, old))
with open(os.path.join(CORPUS, CRITERIA), "w") as f:
    f.write('{"programs": [{"max_batch": 4, "max_tkv": 8192, "batch_granularity": 1, "tkv_granularity": 64}]}\n')
names = set()
with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as manifest:
    manifest.write("# file\texpected part of the message (names the field and the fix)\n")
    for name, content, expect in cases:
        assert name not in names, name
        names.add(name)
        assert "\t" not in expect and "\n" not in expect
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(content)
        manifest.write(f"{name}\t{expect}\n")
print(f"{len(cases)} cases")
