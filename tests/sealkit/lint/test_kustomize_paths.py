"""What a kustomization names is followed or reported (SK010-SK013), never skipped in silence: paths that are not
there, not committed, outside the repo (`..`, absolute, a symlink leading out), remote, outside the paths linted,
and cycles of kustomizations, each at its entry's line. tests/data/lint/rules/SK01[0-3]-* hold the plain cases."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.lint import kustomize_paths
from sealkit.lint.config import LintConfig
from sealkit.lint.discovery import discover
from sealkit.lint.scanner import LintReport, Scanner, lint

K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop}\ndata: {LOG_LEVEL: info}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def found(report: LintReport, root: Path) -> set[tuple[str, int, str]]:
    return {(Path(f.path).relative_to(root).as_posix(), f.line, f.rule.id) for f in report.findings}


def run(root: Path, *paths: Path) -> LintReport:
    return lint(list(paths) or [root], LintConfig(root=root))


def test_the_reported_case_missing_remote_and_outside_are_each_reported_at_their_line(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {
        "clusters/dev/secrets/kustomization.yaml": K + "resources:\n  - configmap.yaml\n  - missing.yaml\n"
        "  - https://github.com/x/y//z?ref=v1\n  - ../../../../outside\n",
        "clusters/dev/secrets/configmap.yaml": CM,
    })  # fmt: skip
    write(tmp_path, {"outside/kustomization.yaml": K + "resources: [secret.yaml]\n", "outside/secret.yaml": CM})
    report = run(root)
    where = "clusters/dev/secrets/kustomization.yaml"
    assert found(report, root) == {(where, 5, "SK010"), (where, 6, "SK012"), (where, 7, "SK011")}
    assert report.failed(LintConfig().fail_on)


def test_a_file_git_does_not_track_is_not_committed_and_a_staged_one_is(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {
        "app/kustomization.yaml": K + "resources:\n  - tracked.yaml\n  - untracked.yaml\n  - staged.yaml\n"
        "  - ignored.yaml\n",
        "app/tracked.yaml": CM, "app/untracked.yaml": CM, "app/staged.yaml": CM, "app/ignored.yaml": CM,
        ".gitignore": "ignored.yaml\n",
    })  # fmt: skip
    git(root, "init", "-q")
    git(root, "add", ".gitignore", "app/kustomization.yaml", "app/tracked.yaml")
    git(root, "commit", "-qm", "init")
    git(root, "add", "app/staged.yaml")
    report = run(root)
    assert found(report, root) == {("app/kustomization.yaml", 5, "SK010"), ("app/kustomization.yaml", 7, "SK010")}
    assert all("not committed" in f.message for f in report.findings)


def test_in_git_the_repo_is_the_work_tree_and_a_narrower_run_says_what_it_did_not_read(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {
        "clusters/dev/kustomization.yaml": K + "resources:\n  - ../../apps/web\n  - ../../../elsewhere\n",
        "apps/web/kustomization.yaml": K + "resources: [configmap.yaml]\n",
        "apps/web/configmap.yaml": CM,
    })  # fmt: skip
    write(tmp_path, {"elsewhere/kustomization.yaml": K})
    git(root, "init", "-q")
    git(root, "add", ".")
    assert run(root, root).findings[0].rule.id == "SK011"  # ../../../elsewhere leaves the work tree
    narrow = run(root, root / "clusters")
    assert found(narrow, root) == {("clusters/dev/kustomization.yaml", 4, "SK012"),
                                   ("clusters/dev/kustomization.yaml", 5, "SK011")}  # fmt: skip
    assert "not in the paths this run lints" in narrow.findings[0].message


def test_a_symlink_leading_out_of_the_repo_is_outside_and_one_inside_is_followed(tmp_path: Path) -> None:
    write(tmp_path, {"outside/secret.yaml": CM})
    root = write(tmp_path / "repo", {
        "app/kustomization.yaml": K + "resources:\n  - link-out.yaml\n  - link-in.yaml\n  - dir-out/secret.yaml\n"
        "  - broken.yaml\n",
        "shared/configmap.yaml": CM,
    })  # fmt: skip
    (root / "app" / "link-out.yaml").symlink_to(tmp_path / "outside" / "secret.yaml")
    (root / "app" / "link-in.yaml").symlink_to(root / "shared" / "configmap.yaml")
    (root / "app" / "dir-out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "app" / "broken.yaml").symlink_to(root / "gone.yaml")
    report = run(root)
    assert found(report, root) == {("app/kustomization.yaml", 4, "SK011"), ("app/kustomization.yaml", 6, "SK011"),
                                   ("app/kustomization.yaml", 7, "SK010"),  # and each link lint cannot follow:
                                   ("app/link-out.yaml", 1, "SK007"), ("app/dir-out", 1, "SK007"),
                                   ("app/broken.yaml", 1, "SK007")}  # fmt: skip


def test_directories_need_exactly_one_kustomization_and_components_are_directories(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {
        "kustomization.yaml": K + "resources:\n  - none\n  - two\n  - one\ncomponents:\n  - one/configmap.yaml\n"
        "patches:\n  - path: one\n",
        "none/configmap.yaml": CM,
        "two/kustomization.yaml": K, "two/Kustomization": K,
        "one/kustomization.yml": K + "resources: [configmap.yaml]\n", "one/configmap.yaml": CM,
    })  # fmt: skip
    report = run(root)
    assert found(report, root) == {("kustomization.yaml", n, "SK010") for n in (4, 5, 8, 10)}


def test_every_field_that_names_a_path_is_checked(tmp_path: Path) -> None:
    fields = {
        "bases": "bases:\n  - gone\n",
        "components": "components:\n  - gone\n",
        "patchesStrategicMerge": "patchesStrategicMerge:\n  - gone.yaml\n",
        "patchesJson6902": "patchesJson6902:\n  - target: {kind: Deployment, name: web}\n    path: gone.yaml\n",
        "replacements": "replacements:\n  - path: gone.yaml\n",
        "crds": "crds:\n  - gone.yaml\n",
        "configurations": "configurations:\n  - gone.yaml\n",
        "openapi": "openapi:\n  path: gone.json\n",
        "transformers": "transformers:\n  - gone.yaml\n",
        "secretGenerator files": "secretGenerator:\n  - name: s\n    files:\n      - key=gone.txt\n",
        "secretGenerator env": "secretGenerator:\n  - name: s\n    env: gone.env\n",
        "configMapGenerator files": "configMapGenerator:\n  - name: c\n    files: [gone.txt]\n",
    }
    for i, (name, text) in enumerate(fields.items()):
        root = write(tmp_path / str(i), {"kustomization.yaml": K + text})
        report = run(root)
        assert [f.rule.id for f in report.findings] == ["SK010"], name
        assert report.findings[0].line == K.count("\n") + text.rstrip().count("\n") + 1, name
    inline = K + "patchesStrategicMerge:\n  - |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: web}\n"
    assert run(write(tmp_path / "inline", {"kustomization.yaml": inline})).findings == []


def test_remote_entries_are_info_and_never_show_credentials(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"kustomization.yaml": K + "resources:\n"
                                     "  - https://user:s3cr3t-t0ken@git.example.com/org/repo//deploy?ref=v1\n"
                                     "  - oci://ghcr.io/org/manifests:v1\n"})  # fmt: skip
    report = run(root)
    assert [(f.rule.id, f.severity.label) for f in report.findings] == [("SK012", "info")] * 2
    assert not report.failed(LintConfig().fail_on)
    text = " ".join(f.message for f in report.findings)
    assert "s3cr3t" not in text and "user" not in text and "***" in text


def test_paths_under_ignore_are_left_out_on_purpose(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"kustomization.yaml": K + "resources:\n  - vendor/app\n",
                                     "vendor/app/kustomization.yaml": K})  # fmt: skip
    config = LintConfig(root=root, ignore=[__import__("re").compile(r"vendor/.*")])
    assert Scanner(config).run(discover([root])).findings == []


def test_cycles_are_reported_at_every_entry_that_closes_them_without_looping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "repo", {
        "a/kustomization.yaml": K + "resources:\n  - ../b\n",
        "b/kustomization.yaml": K + "resources:\n  - ../c\n",
        "c/kustomization.yaml": K + "resources:\n  - configmap.yaml\n  - ../a\n", "c/configmap.yaml": CM,
        "self/kustomization.yaml": K + "resources:\n  - .\n",
        "up/overlay/kustomization.yaml": K + "resources:\n  - ../..\n",
        "kustomization.yaml": K + "resources:\n  - a\n",
    })  # fmt: skip
    monkeypatch.chdir(root)
    report = run(root, Path())
    assert found(report, Path()) == {("a/kustomization.yaml", 4, "SK013"), ("b/kustomization.yaml", 4, "SK013"),
                                   ("c/kustomization.yaml", 5, "SK013"), ("self/kustomization.yaml", 4, "SK013"),
                                   ("up/overlay/kustomization.yaml", 4, "SK013")}  # fmt: skip
    assert "a cycle through a, b, c" in next(
        f.message for f in report.findings if f.path.endswith("b/kustomization.yaml")
    )


def test_a_long_chain_is_checked_without_recursion(tmp_path: Path) -> None:
    depth = 1500  # deeper than Python's recursion limit (1000)
    files = {f"k{i}/kustomization.yaml": K + f"resources:\n  - ../k{i + 1}\n" for i in range(depth)}
    files[f"k{depth}/kustomization.yaml"] = K + "resources:\n  - ../k0\n"
    report = run(write(tmp_path / "repo", files))
    assert len(report.findings) == depth + 1 and {f.rule.id for f in report.findings} == {"SK013"}


def _reaches(graph: dict[int, list[int]], start: int, goal: int) -> bool:
    seen, todo = set(), list(graph[start])
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.integers(0, 7), st.lists(st.integers(0, 7), max_size=3, unique=True), min_size=1))
def test_a_cycle_is_reported_exactly_where_an_entry_leads_back(tmp_path_factory: pytest.TempPathFactory,
                                                                 edges: dict[int, list[int]]) -> None:  # fmt: skip
    """Any graph of kustomizations: SK013 at an entry a -> b exactly when b leads back to a (or a == b)."""
    graph = {n: edges.get(n, []) for n in range(8)}
    root = tmp_path_factory.mktemp("graph")
    write(root, {f"n{n}/kustomization.yaml": K + "resources:\n" + "".join(f"  - ../n{m}\n" for m in out)
                 if out else K for n, out in graph.items()})  # fmt: skip
    report = run(root)
    expected = {(f"n{n}/kustomization.yaml", 4 + j, "SK013") for n, out in graph.items() for j, m in enumerate(out)
                if n == m or _reaches(graph, m, n)}  # fmt: skip
    assert found(report, root) == expected


def test_remote_shapes() -> None:
    remote = ["https://github.com/x/y//z?ref=v1", "github.com/org/repo/path", "git::https://h/r.git", "oci://r/x:1",
              "git@github.com:org/repo.git", "ssh://git@h/r", "dev.azure.com/org/_git/repo"]  # fmt: skip
    local = ["base", "../base", "base.d/x.yaml", "./github/app"]
    assert all(kustomize_paths.is_remote(r) for r in remote)
    assert not any(kustomize_paths.is_remote(p) for p in local)


def test_helm_chart_values_files_are_followed_or_reported(tmp_path: Path) -> None:
    """kustomize's helm inflator merges `valuesFile` and `additionalValuesFiles` into the chart's values: one
    missing or outside the repo was not looked at, and one named like `web-values.txt` was read for keys only."""
    write(tmp_path, {"outside-values.yaml": "a: 1\n"})
    root = write(tmp_path / "repo", {
        "app/kustomization.yaml": K + "helmCharts:\n  - name: web\n    valuesFile: web-values.txt\n"
        "    additionalValuesFiles:\n      - ../../outside-values.yaml\n      - missing.yaml\n"
        "      - https://example.com/values.yaml\n",
        "app/web-values.txt": "extraObjects:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: db}\n"
        "    stringData: {password: not-a-real-value}\n",
    })  # fmt: skip
    assert found(run(root), root) == {
        ("app/kustomization.yaml", 7, "SK011"),
        ("app/kustomization.yaml", 8, "SK010"),
        ("app/kustomization.yaml", 9, "SK012"),
        ("app/web-values.txt", 5, "SK101"),
    }
