"""Template rendering checked against what Bitnami's Go templates produce.

Expected outputs are written from the documented Go text/template, fmt, encoding/json, regexp
and sprig semantics (Bitnami: text/template + sprig v3.3.0 GenericFuncMap, executed over a
map[string]string of the decrypted items). Comments cite the rule behind non-obvious cases.
"""

from __future__ import annotations

import pytest

from sealkit.gotemplate import render_template

ITEMS = {"user": "admin", "password": "s3cr3t", "port": "5432", "my-key": "dashed", "a": "1", "b": "2"}

CASES: list[tuple[str, str]] = [
    # --- field access, index, missing keys ---
    ("{{ .user }}:{{ .password }}", "admin:s3cr3t"),
    ("{{.user}}", "admin"),
    ('{{ index . "my-key" }}', "dashed"),
    # text/template Option doc: missingkey=default prints "<no value>" for a missing map key.
    ("{{ .nope }}", "<no value>"),
    # funcs.go index: a missing map key gives the element type's zero value ("" for map[string]string).
    ('[{{ index . "nope" }}]', "[]"),
    # sprig default: the missing value arrives as nil, which is empty.
    ('{{ .nope | default "fallback" }}', "fallback"),
    ('{{ default "fallback" .user }}', "admin"),
    # fmt %v of a map: map[k:v ...] with sorted keys.
    ("{{ . }}", "map[a:1 b:2 my-key:dashed password:s3cr3t port:5432 user:admin]"),
    ("{{ len . }}", "6"),
    # --- whitespace trimming and comments (text/template doc "Text and spaces") ---
    ("{{23 -}} < {{- 45}}", "23<45"),
    ("{{-3}}", "-3"),  # doc: "{{-3}}" parses as an action containing the number -3
    ("a  {{- /* comment */ -}}  b", "ab"),
    ("a {{/* multi\nline */}} b", "a  b"),
    ("x\n  {{- .user }}\n", "xadmin\n"),
    ("{{\n  .user\n}}", "admin"),  # newlines are allowed inside actions (Go >= 1.16)
    # --- constants ---
    ('{{ "a\\tb" }}|{{ `raw\\n` }}', "a\tb|raw\\n"),
    ("{{ 'a' }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 1_000 }}", "97 31 15 15 1000"),
    # fmt %v of float64 is %g with the shortest digits; strconv decides %e vs %f with precision 6
    # for the shortest form (exponent < -4 or >= 6), so float64(1000000) prints 1e+06.
    (
        "{{ 1.5 }} {{ 1000000.0 }} {{ 100000.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1e21 }}",
        "1.5 1e+06 100000 0.0001 1e-05 1e+21",
    ),
    ("{{ true }} {{ false }}", "true false"),
    # --- pipelines, parentheses, variables (text/template doc "Examples": all print "output") ---
    ('{{"\\"output\\""}}', '"output"'),
    ('{{printf "%q" "output"}}', '"output"'),
    ('{{"output" | printf "%q"}}', '"output"'),
    ('{{printf "%q" (print "out" "put")}}', '"output"'),
    ('{{"put" | printf "%s%s" "out" | printf "%q"}}', '"output"'),
    ('{{with $x := "output" | printf "%q"}}{{$x}}{{end}}', '"output"'),
    ('{{with $x := "output"}}{{$x | printf "%q"}}{{end}}', '"output"'),
    ("{{ $x := .user }}{{ $x }}", "admin"),
    ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
    ("{{ range list 1 }}{{ $.user }}{{ end }}", "admin"),
    ("{{ $n := 0 }}{{ range list 1 2 3 }}{{ $n = add $n . }}{{ end }}{{ $n }}", "6"),
    ('{{ (dict "k" "v").k }}', "v"),
    # --- if / else if / with / else with ---
    ('{{ if eq .user "admin" }}yes{{ else }}no{{ end }}', "yes"),
    ("{{ if .nope }}a{{ else if .user }}b{{ else }}c{{ end }}", "b"),
    ('{{ if "" }}a{{ else if 0 }}b{{ else if list }}c{{ else }}d{{ end }}', "d"),  # empty values are false
    ("{{ with .user }}{{ . }}{{ end }}", "admin"),
    ("{{ with .nope }}x{{ else }}none{{ end }}", "none"),
    ("{{ with .nope }}a{{ else with .user }}{{ . }}{{ end }}", "admin"),  # else with: Go >= 1.23
    # --- range ---
    # text/template doc: a map is visited in sorted key order.
    (
        "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}",
        "a=1;b=2;my-key=dashed;password=s3cr3t;port=5432;user=admin;",
    ),
    ("{{ range . }}{{ . }},{{ end }}", "1,2,dashed,s3cr3t,5432,admin,"),
    ('{{ range $i, $e := splitList "," "x,y" }}{{ $i }}{{ $e }}{{ end }}', "0x1y"),
    ("{{ range list }}x{{ else }}empty{{ end }}", "empty"),
    ("{{ range 3 }}{{ . }}{{ end }}", "012"),  # range over an integer: Go >= 1.22
    (
        '{{ range $i, $e := list "a" "b" "c" "d" }}{{ if eq $i 1 }}{{ continue }}{{ end }}'
        "{{ if eq $i 3 }}{{ break }}{{ end }}{{ $e }}{{ end }}",
        "ac",
    ),
    # --- Go builtins ---
    ('{{ or .nope "fb" }}|{{ and .user .port }}|{{ and "" .user }}|', "fb|5432||"),
    ("{{ not .nope }} {{ not .user }}", "true false"),
    (
        '{{ eq .user "x" "admin" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}',
        "true true true true true false",
    ),
    ('{{ eq .nope "x" }}', "false"),  # Go >= 1.18: comparing with a missing value is false, not an error
    ('{{ len "héllo" }}', "6"),  # len counts bytes
    ('{{ index "abc" 1 }} {{ index (list 1 (list 2 3)) 1 0 }}', "98 2"),  # index of a string is a byte
    # fmt.Sprint: spaces between operands when neither is a string; Sprintln always.
    ('{{ print 1 2 "a" 3 }}|{{ println 1 "a" }}', "1 2a3|1 a\n"),
    ("{{ print .nope }}", "<nil>"),
    ("""{{ html "<a href='x'>&\\"" }}""", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"),
    ("""{{ js "a'b\\"<>=&\\\\" }}""", "a\\'b\\\"\\u003C\\u003E\\u003D\\u0026\\\\"),
    ('{{ urlquery "a b&c=d/é" }}', "a+b%26c%3Dd%2F%C3%A9"),
    # --- printf (fmt verbs, flags, Go's %!-notations) ---
    (
        '{{ printf "%5s|%-5s|%05d|%x|%X|%o|%b|%c|%U|%t|%v|%%" "ab" "cd" 42 255 255 8 5 65 65 true 1.5 }}',
        "   ab|cd   |00042|ff|FF|10|101|A|U+0041|true|1.5|%",
    ),
    (
        '{{ printf "%+d % d %x %#x %.3s %8.3f %-8.2e| %g" 5 5 "hi" 255 "abcdef" 3.14159 1234.5678 0.000012 }}',
        "+5  5 6869 0xff abc    3.142 1.23e+03| 1.2e-05",
    ),
    ('{{ printf "%q %q" "a\\nb\\u00e9" 97 }}', "\"a\\nbé\" 'a'"),
    ('{{ printf "%+q" "é" }}', '"\\u00e9"'),
    ('{{ printf "%d" "x" }}', "%!d(string=x)"),
    ('{{ printf "%s" }}', "%!s(MISSING)"),
    ('{{ printf "%s" "a" "b" }}', "a%!(EXTRA string=b)"),
    ('{{ printf "%v %v %T" (list 1 "a") (dict "b" 1 "a" 2) 1.5 }}', "[1 a] map[a:2 b:1] float64"),
    ('{{ printf "%*d|%-*d|" 4 1 3 2 }}', "   1|2  |"),
    ('{{ printf "%s" .nope }}', "%!s(<nil>)"),
    # --- sprig strings ---
    (
        '{{ trim "  hi\\t" }}|{{ trimAll "$" "$5.00$" }}|{{ trimPrefix "-" "-x" }}|{{ trimSuffix "-" "x-" }}',
        "hi|5.00|x|x",
    ),
    (
        '{{ upper "héllo" }} {{ lower "ÀB" }} {{ title "hello wide-world" }} {{ untitle "Hello World" }}',
        "HÉLLO àb Hello Wide-World hello world",
    ),
    ('{{ repeat 3 "ab" }} {{ "x" | repeat 2 }}', "ababab xx"),
    ('{{ substr 1 3 "hello" }} {{ substr -1 2 "hello" }} {{ substr 2 99 "hello" }}', "el he llo"),
    ('{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}|{{ trunc 50 "hi" }}', "hello|world|hi"),
    (
        '{{ abbrev 5 "hello world" }} {{ abbrevboth 5 10 "1234 5678 9123" }} {{ abbrev 3 "abcdef" }}',
        "he... ...5678... abcdef",
    ),
    ('{{ nospace "a b\\tc" }} {{ initials "First Try" }} {{ swapcase "Hello World" }}', "abc FT hELLO wORLD"),
    ('{{ contains "cat" "catch" }} {{ hasPrefix "cat" "catch" }} {{ hasSuffix "cat" "catch" }}', "true true false"),
    ('{{ quote "a\\"b" 1 .nope }} {{ squote "x" 2 }}', '"a\\"b" "1" \'x\' \'2\''),
    ('{{ cat "hello" .nope "beautiful" 3 }}', "hello beautiful 3"),
    ('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a"),
    ('{{ replace " " "-" "I Am Henry VIII" }}', "I-Am-Henry-VIII"),
    ('{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }}', "one many"),
    ("{{ toString 42 }} {{ toString .user }} {{ toString 1.5 }}", "42 admin 1.5"),
    # --- sprig encodings and hashes ---
    (
        '{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hello" }} {{ b32dec "NBSWY3DP" }}',
        "aGVsbG8= hello NBSWY3DP hello",
    ),
    # sprig b64dec returns the decoder's error text; Go's CorruptInputError offsets.
    ('{{ b64dec "aGVsbG8" }}', "illegal base64 data at input byte 4"),
    ('{{ b64dec "!!!!" }}', "illegal base64 data at input byte 0"),
    ('{{ b64dec "aGVs\\nbG8=" }}', "hello"),  # newlines are ignored by Go's decoder
    ('{{ sha256sum "Hello world!" }}', "c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a"),
    ('{{ sha1sum "Hello world!" }}', "d3486ae9136e7856bc42212385ea797094475802"),
    ('{{ adler32sum "Wikipedia" }}', "300286872"),  # 0x11E60398, the Adler-32 reference example
    # --- sprig JSON (encoding/json: sorted keys, HTML-escaped <>&, float64 numbers) ---
    ("{{ toJson . }}", '{"a":"1","b":"2","my-key":"dashed","password":"s3cr3t","port":"5432","user":"admin"}'),
    ('{{ toJson "a<b>&\\u2028" }}', '"a\\u003cb\\u003e\\u0026\\u2028"'),
    ('{{ toRawJson (dict "a" "<b>") }}', '{"a":"<b>"}'),
    ('{{ toPrettyJson (dict "a" 1 "b" (list)) }}', '{\n  "a": 1,\n  "b": []\n}'),
    ("{{ toJson (list 1 1.5 1e21 0.0000001 nil true) }}", "[1,1.5,1e+21,1e-7,null,true]"),
    ('{{ (fromJson "{\\"port\\": 8080}").port }}', "8080"),
    # json numbers become float64, and fmt prints 1234567.0 as 1.234567e+06.
    ('{{ (fromJson "{\\"n\\": 1234567}").n }}', "1.234567e+06"),
    ('{{ fromJson "not json" }}', "<no value>"),
    # --- sprig defaults and flow ---
    (
        '{{ empty "" }} {{ empty 0 }} {{ empty .user }} {{ coalesce .nope "" "x" }} {{ ternary "y" "n" false }}',
        "true true false x n",
    ),
    ('{{ all 1 "a" }} {{ any 0 "" }}', "true false"),
    # --- sprig lists ---
    (
        "{{ list 1 2 3 | first }} {{ list 1 2 3 | last }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }}",
        "1 3 [2 3] [1 2]",
    ),
    (
        '{{ reverse (list 1 2) }} {{ uniq (list 1 1 "a" "a") }} {{ without (list 1 2 3) 2 }} {{ has 4 (list 1 2) }}',
        "[2 1] [1 a] [1 3] false",
    ),
    (
        '{{ compact (list 1 "" .nope "x") }} {{ slice (list 1 2 3 4) 1 3 }} {{ concat (list 1) (list 2 3) }}',
        "[1 x] [2 3] [1 2 3]",
    ),
    ("{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ chunk 2 (list 1 2 3) }}", "[1 2] [0 1] [[1 2] [3]]"),
    (
        '{{ join "," (list 1 .nope "x") }} {{ splitList "$" "foo$bar$baz" }} {{ (split "$" "foo$bar")._1 }}',
        "1,x [foo bar baz] bar",
    ),
    ('{{ sortAlpha (list "b" "a" "C") }} {{ toStrings (list 1 2) | typeOf }}', "[C a b] []string"),
    ("{{ until 3 }} {{ untilStep 0 10 3 }} {{ seq 3 }} {{ seq 5 -1 1 }}", "[0 1 2] [0 3 6 9] 1 2 3 5 4 3 2 1"),
    # --- sprig dicts (map[string]interface{}) ---
    (
        '{{ $d := dict "b" 2 "a" 1 }}{{ get $d "a" }} {{ get $d "zz" }}| {{ hasKey $d "c" }} {{ keys $d }} '
        '{{ $_ := set $d "c" 3 }}{{ len $d }} {{ pick $d "a" | toJson }} {{ omit $d "a" | toJson }} {{ values $d }}',
        '1 | false [a b] 3 {"a":1} {"b":2,"c":3} [1 2 3]',
    ),
    ('{{ dig "a" "b" "dflt" (dict "a" (dict "b" "v")) }} {{ dig "a" "x" "dflt" (dict "a" (dict)) }}', "v dflt"),
    ('{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}', "[1 3]"),
    # --- conversions and arithmetic (spf13/cast: base-0 strings, so "010" is octal) ---
    ('{{ atoi "42" }} {{ int "010" }} {{ int "12.000" }} {{ int64 "x" }} {{ float64 "1.5" }}', "42 8 12 0 1.5"),
    ('{{ add 1 2 "3" }} {{ sub 5 7 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod -7 2 }} {{ mul 2 3 4 }}', "6 -2 3 -3 -1 24"),
    ('{{ max 1 5 3 }} {{ min 4 2 8 }} {{ add1 "5" }} {{ floor 1.5 }} {{ ceil 1.2 }}', "5 2 6 1 2"),
    # --- reflection and paths ---
    (
        '{{ typeOf 1 }} {{ typeOf "x" }} {{ typeOf (list) }} {{ typeOf . }} {{ typeOf (add 1 1) }} {{ kindOf (dict) }}',
        "int string []interface {} map[string]string int64 map",
    ),
    ('{{ kindIs "slice" (list) }} {{ typeIs "string" .user }} {{ deepEqual (list 1) (list 1) }}', "true true true"),
    (
        '{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "a//b/../c/" }} {{ isAbs "x" }}',
        "b.txt /a .gz a/c false",
    ),
    # --- regex (Go RE2; regexp package doc examples) ---
    ('{{ regexMatch "^[a-z]+$" "abc" }} {{ regexMatch "^\\\\d+$" "١٢" }}', "true false"),  # \d is ASCII in RE2
    ('{{ regexMatch "a$" "a\\n" }}', "false"),  # RE2 $ without (?m) is end of text only
    (
        '{{ regexFindAll "[0-9]" "a1b2c3" -1 }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexFind "b+" "abbc" }}',
        "[1 2 3] [1 2] bb",
    ),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "T" }}', "-T-T-"),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1" }}', "--xx-"),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}', "---"),  # $1W names group "1W", which is empty
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', "-W-xxW-"),
    ('{{ regexReplaceAll "(?P<k>\\\\w+)=(\\\\w+)" "a=b" "$2=${k}" }}', "b=a"),
    ('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}', "-${1}-${1}-"),
    ('{{ regexReplaceAll "x*" "abxd" "-" }}', "-a-b-d-"),  # no empty match right after a match
    ('{{ regexSplit "a*" "abaabaccadaaae" 5 }}', "[ b b c cadaaae]"),
    ('{{ regexSplit "z+" "pizza" -1 }}', "[pi a]"),
    ('{{ regexQuoteMeta "1.5-2.0?" }}', "1\\.5-2\\.0\\?"),
    ('{{ regexMatch "[[:upper:]]x" "Ax" }} {{ regexMatch "(?i)ADMIN" .user }}', "true true"),
    ('{{ regexMatch "(?=x)" "x" }}', "false"),  # look-ahead is not RE2: Compile fails, regexMatch gives false
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_renders_like_go(source: str, expected: str) -> None:
    assert render_template(source, ITEMS, name="case") == expected


def test_plain_text_is_copied_unchanged() -> None:
    text = "no actions here: { } {x} }} \n\t"
    assert render_template(text, {}) == text


def test_output_keeps_non_utf8_bytes() -> None:
    raw = b"\xff\xfeok"
    value = raw.decode("utf-8", "surrogateescape")
    out = render_template("{{ .k }}|{{ len .k }}|{{ trunc 1 .k | b64enc }}", {"k": value})
    assert out.encode("utf-8", "surrogateescape") == raw + b"|4|/w=="


def test_trunc_cuts_bytes_like_go() -> None:
    out = render_template('{{ trunc 2 "é" }}|{{ trunc 1 "é" | len }}', {})
    # "é" is 2 bytes: trunc 2 keeps it whole; trunc 1 keeps half a character (one byte).
    assert out.split("|") == ["é", "1"]
