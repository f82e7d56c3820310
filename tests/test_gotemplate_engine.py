"""The Go template engine renders as Argo CD's ApplicationSet controller does: real Go, real sprig."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fleetmig.errors import FleetmigError
from fleetmig.gotemplate_engine import YAML_ERROR, GoTemplateEngine, GoTemplateEngineUnavailable, Job, Result, binary

STRICT = ("missingkey=error",)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> GoTemplateEngine:
    return GoTemplateEngine(cache_dir=tmp_path_factory.mktemp("cache"))


def ok(output: str) -> Result:
    return Result(output=output, error=None)


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ('{{ default "main" .branch }}', {"branch": ""}, "main"),
        ('{{ default "main" .branch }}', {"branch": "dev"}, "dev"),
        ('{{ dig "chart" "version" "latest" . }}', {"chart": {"name": "x"}}, "latest"),
        ('{{ dig "chart" "version" "latest" . }}', {"chart": {"version": "1.2.3"}}, "1.2.3"),
        ('{{ get .labels "tier" }}', {"labels": {"tier": "web"}}, "web"),
        ('{{ get .labels "absent" }}', {"labels": {}}, ""),
        ('{{ hasKey .labels "tier" }}/{{ hasKey .labels "zone" }}', {"labels": {"tier": "web"}}, "true/false"),
        ("{{ toJson .values }}", {"values": {"b": [1, "two"], "a": None}}, '{"a":null,"b":[1,"two"]}'),
        ("{{ upper .name }}", {"name": "api"}, "API"),
        ("{{ b64enc .name }}", {"name": "api"}, base64.b64encode(b"api").decode()),
    ],
)
def test_sprig_functions(engine: GoTemplateEngine, template: str, data: object, expected: str) -> None:
    assert engine.render(template, data, STRICT) == ok(expected)


def test_missingkey_error_fails_where_the_default_prints_no_value(engine: GoTemplateEngine) -> None:
    data = {"chart": {"name": "x"}}
    assert engine.render("v{{ .chart.version }}", data) == ok("v<no value>")
    strict = engine.render("v{{ .chart.version }}", data, STRICT)
    assert strict == Result(
        output=None, error='template: :1:10: executing "" at <.chart.version>: map has no entry for key "version"'
    )


def test_default_does_not_guard_a_missing_key_under_missingkey_error(engine: GoTemplateEngine) -> None:
    # Why Argo CD's documentation recommends `dig` with missingkey=error: the lookup fails before
    # `default` is called.
    assert engine.render('{{ default "main" .branch }}', {}) == ok("main")
    strict = engine.render('{{ default "main" .branch }}', {}, STRICT)
    assert strict.error == 'template: :1:18: executing "" at <.branch>: map has no entry for key "branch"'
    assert engine.render('{{ dig "branch" "main" . }}', {}, STRICT) == ok("main")


def test_range_over_a_missing_key(engine: GoTemplateEngine) -> None:
    template = "[{{ range .items }}{{ . }},{{ end }}]"
    assert engine.render(template, {}) == ok("[]")
    assert engine.render(template, {"items": ["a", "b"]}, STRICT) == ok("[a,b,]")
    strict = engine.render(template, {}, STRICT)
    assert strict.error is not None and 'map has no entry for key "items"' in strict.error


def test_dollar_inside_range_is_the_root_data(engine: GoTemplateEngine) -> None:
    template = "{{ range .envs }}{{ $.app }}-{{ . }} {{ end }}"
    assert engine.render(template, {"app": "api", "envs": ["dev", "prod"]}, STRICT) == ok("api-dev api-prod ")


def test_numbers_are_float64_as_in_argo_cd(engine: GoTemplateEngine) -> None:
    assert engine.render("{{ .n }}", {"n": 10}) == ok("10")
    assert engine.render('{{ printf "%T" .n }}', {"n": 10}) == ok("float64")
    # A consequence Argo CD users meet: comparing with an int literal is a type error.
    compared = engine.render("{{ eq .n 10 }}", {"n": 10}, STRICT)
    assert compared.error is not None and "incompatible types for comparison" in compared.error


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My_App/Prod", "my-app-prod"),
        ("--Hello.World..", "hello.world"),
        ("a" * 300, "a" * 253),
        ("x" * 252 + "-y", "x" * 252),
    ],
)
def test_normalize_is_argo_cds_sanitize_name(engine: GoTemplateEngine, name: str, expected: str) -> None:
    assert engine.render("{{ normalize .name }}", {"name": name}) == ok(expected)


def test_to_yaml_sorts_keys_and_writes_compact_sequences_as_sigs_k8s_yaml(engine: GoTemplateEngine) -> None:
    data = {"values": {"replicas": 2, "ratio": 0.5, "image": {"tag": "on"}, "args": ["--a", "--b"]}}
    rendered = engine.render("{{ toYaml .values }}", data, STRICT)
    assert rendered == ok('args:\n- --a\n- --b\nimage:\n  tag: "on"\nratio: 0.5\nreplicas: 2')
    assert engine.render("{{ toYaml .values | nindent 4 }}", {"values": {"a": 1}}) == ok("\n    a: 1")


def test_from_yaml_decodes_like_sigs_k8s_yaml(engine: GoTemplateEngine) -> None:
    data = {"doc": "replicas: 3\nname: api\n8080: http\n"}
    template = '{{ $v := fromYaml .doc }}{{ $v.name }} {{ printf "%T" $v.replicas }} {{ index $v "8080" }}'
    assert engine.render(template, data, STRICT) == ok("api float64 http")
    broken = engine.render("{{ (fromYaml .doc).Error }}", {"doc": "a: ["}, STRICT)
    assert broken.output is not None and broken.output.startswith("error converting YAML to JSON: ")


def test_a_yaml_job_answers_its_output_read_as_argo_cd_reads_a_template_patch(engine: GoTemplateEngine) -> None:
    """sigs.k8s.io/yaml's YAMLToJSON: YAML 1.1 booleans, integers stay integers, keys become strings."""
    patch = "spec:\n  replicas: {{ .n }}\n  on: yes\n  8080: http\n  when: 2024-01-01\n  ratio: 0.5\n"
    (read,) = engine.render_many([Job(patch, {"n": 3}, STRICT, yaml=True)])
    assert read == Result(
        None, None, {"spec": {"replicas": 3, "true": True, "8080": "http", "when": "2024-01-01", "ratio": 0.5}}
    )
    empty, broken, failing = engine.render_many(
        [Job("", {}, yaml=True), Job("a: [", {}, yaml=True), Job("{{ .missing.key }}", {}, STRICT, yaml=True)]
    )
    assert empty == Result(None, None, None)
    assert broken.error is not None and broken.error.startswith(YAML_ERROR + ": yaml: line 1")
    assert failing.error is not None and "map has no entry for key" in failing.error


def test_from_yaml_array(engine: GoTemplateEngine) -> None:
    rendered = engine.render("{{ range fromYamlArray .doc }}<{{ . }}>{{ end }}", {"doc": "- a\n- 2\n"}, STRICT)
    assert rendered == ok("<a><2>")
    not_a_list = engine.render("{{ fromYamlArray .doc }}", {"doc": "a: 1"}, STRICT)
    assert not_a_list == ok(
        "[error unmarshaling JSON: json: cannot unmarshal object into Go value of type []interface {}]"
    )


@pytest.mark.parametrize("function", ["env", "expandenv", "getHostByName"])
def test_functions_argo_cd_removes_are_not_defined(engine: GoTemplateEngine, function: str) -> None:
    result = engine.render(f'{{{{ {function} "HOME" }}}}', {})
    assert result == Result(output=None, error=f'template: :1: function "{function}" not defined')


def test_slugify_fails_clearly(engine: GoTemplateEngine) -> None:
    result = engine.render("{{ slugify .branch }}", {"branch": "Feature/X"})
    assert result.error == (
        'template: :1:3: executing "" at <slugify .branch>: error calling slugify: slugify is not supported '
        "by fleetmig's template engine (Argo CD implements it with gosimple/slug)"
    )


def test_a_panicking_function_fails_only_its_own_job(engine: GoTemplateEngine) -> None:
    results = engine.render_many(
        [
            Job("{{ .name }}", {"name": "before"}, STRICT),
            # sprig's dig type-asserts its last argument to a map and panics on a string.
            Job('{{ dig "a" "b" "fallback" .name }}', {"name": "not-a-map"}, STRICT),
            Job("x", {}, ("no-such-option",)),
            Job("{{ .name }}", {"name": "after"}, STRICT),
        ]
    )
    assert results[0] == ok("before")
    assert results[1].output is None and results[1].error is not None
    assert "error calling dig: interface conversion" in results[1].error
    assert results[2] == Result(output=None, error="unrecognized option: no-such-option")
    assert results[3] == ok("after")


def test_a_large_batch_runs_in_one_process(engine: GoTemplateEngine) -> None:
    jobs = [Job("{{ .app }}-{{ .i }}", {"app": "api", "i": i}, STRICT) for i in range(2000)]
    results = engine.render_many(jobs)
    assert results == [ok(f"api-{i}") for i in range(2000)]
    assert engine.render_many([]) == []


def test_a_broken_request_is_an_internal_error(engine: GoTemplateEngine) -> None:
    # Options that are not strings cannot be decoded by the engine: it exits, and that is a bug.
    with pytest.raises(RuntimeError, match="exited with status 1: reading the request"):
        engine.render_many([Job("x", {}, (1,))])  # type: ignore[arg-type]


def test_the_binary_is_built_once_into_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = binary()
    assert first.parent == tmp_path / "fleetmig"
    assert first.name.startswith("gotemplate-engine-")
    built_at = first.stat().st_mtime_ns
    second = binary()
    assert second == first
    assert second.stat().st_mtime_ns == built_at
    assert sorted(p.name for p in first.parent.iterdir()) == ["go-build", first.name]


def test_without_go_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(GoTemplateEngineUnavailable) as raised:
        GoTemplateEngine().render("x", {})
    assert isinstance(raised.value, FleetmigError) and raised.value.exit_code == 2
    message = str(raised.value)
    assert message.startswith(
        "fleetmig verify renders ApplicationSet templates with Go's text/template and sprig, as Argo CD does: "
        "install them with `apt-get install golang-go golang-github-masterminds-sprig-dev"
    )
    assert "`go` is not on PATH" in message
    assert not (tmp_path / "cache").exists()


def test_without_sprig_sources_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETMIG_GOPATH", str(tmp_path))
    with pytest.raises(GoTemplateEngineUnavailable, match=r"apt-get install golang-go .*github.com/Masterminds/sprig"):
        binary(tmp_path / "cache")


def test_a_failed_build_reports_gos_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gopath = tmp_path / "gopath"
    for package in ("github.com/Masterminds/sprig", "gopkg.in/yaml.v2"):
        (gopath / "src" / package).mkdir(parents=True)
    monkeypatch.setenv("FLEETMIG_GOPATH", str(gopath))
    with pytest.raises(GoTemplateEngineUnavailable, match="could not build fleetmig's Go template engine") as raised:
        binary(tmp_path / "cache")
    assert "gopkg.in/yaml.v2: no Go files in" in str(raised.value)
    assert not list((tmp_path / "cache").glob("gotemplate-engine-*"))
