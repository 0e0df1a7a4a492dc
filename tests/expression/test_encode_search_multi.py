"""Tests of encode/decode, search, JSONPath and multi-attribute functions."""

from __future__ import annotations

import json

import pytest

from flowengine.expression import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    compile,
)

MY_JSON = json.dumps(
    {
        "firstName": "John",
        "lastName": "Smith",
        "isAlive": True,
        "age": 25,
        "address": {
            "streetAddress": "21 2nd Street",
            "city": "New York",
            "state": "NY",
            "postalCode": "10021-3100",
        },
        "phoneNumbers": [
            {"type": "home", "number": "212 555-1234"},
            {"type": "office", "number": "646 555-4567"},
        ],
        "children": [],
        "spouse": None,
    }
)

ATTRS = {
    "filename": "a brand new filename.txt",
    "abc": "hello world",
    "xyz": "good bye world",
    "number_list": "1,2,3,4,5",
    "word_list": "those,known,or,not",
    "myEnum": "JOHN",
    "myJson": MY_JSON,
    "quote": 'He didn\'t say, "Stop!"',
    "bread": '"bread" & "butter"',
    "csv": "But finally, she left",
    "url": "https://nifi.apache.org/some value with spaces",
    "payload": "admin:admin",
    "b64": "YWRtaW46YWRtaW4=",
    "unicode": "café/☃",
}

CASES = [
    # encode / decode
    ("${quote:escapeJson()}", 'He didn\'t say, \\"Stop!\\"'),
    ("${unicode:escapeJson()}", "caf\\u00E9\\/\\u2603"),
    ("${literal('a\\tb'):escapeJson()}", "a\\tb"),
    (
        "${literal('He didn\\'t say, \\\\\"Stop!\\\\\"'):unescapeJson()}",
        'He didn\'t say, "Stop!"',
    ),
    ("${literal('caf\\\\u00E9'):unescapeJson()}", "café"),
    ("${bread:escapeXml()}", "&quot;bread&quot; &amp; &quot;butter&quot;"),
    ('${literal("it\'s"):escapeXml()}', "it&apos;s"),
    (
        "${literal('&quot;bread&quot; &amp; &quot;butter&quot;'):unescapeXml()}",
        '"bread" & "butter"',
    ),
    ("${literal('&#65;&#x42;'):unescapeXml()}", "AB"),
    ("${csv:escapeCsv()}", '"But finally, she left"'),
    ("${literal('say \"hi\"'):escapeCsv()}", '"say ""hi"""'),
    ("${literal('plain'):escapeCsv()}", "plain"),
    ("${literal('\"But finally, she left\"'):unescapeCsv()}", "But finally, she left"),
    ("${literal('\"plain\"'):unescapeCsv()}", '"plain"'),
    ("${bread:escapeHtml3()}", "&quot;bread&quot; &amp; &quot;butter&quot;"),
    ("${bread:escapeHtml4()}", "&quot;bread&quot; &amp; &quot;butter&quot;"),
    ("${literal('é \u03b1'):escapeHtml3()}", "&eacute; \u03b1"),
    ("${literal('é \u03b1'):escapeHtml4()}", "&eacute; &alpha;"),
    (
        "${literal('&quot;bread&quot; &amp; &quot;butter&quot;'):unescapeHtml3()}",
        '"bread" & "butter"',
    ),
    ("${literal('&alpha;&eacute;'):unescapeHtml4()}", "\u03b1é"),
    ("${literal('&alpha;'):unescapeHtml3()}", "&alpha;"),
    ("${missing:escapeJson()}", ""),
    ("${url:urlEncode()}", "https%3A%2F%2Fnifi.apache.org%2Fsome+value+with+spaces"),
    ("${literal('a*b~c'):urlEncode()}", "a*b%7Ec"),
    (
        "${literal('https://nifi.apache.org/some%20value%20with%20spaces'):urlDecode()}",
        "https://nifi.apache.org/some value with spaces",
    ),
    ("${literal('a+b%C3%A9'):urlDecode()}", "a bé"),
    ("${payload:base64Encode()}", "YWRtaW46YWRtaW4="),
    ("${b64:base64Decode()}", "admin:admin"),
    ("${literal('hello'):hash('MD5')}", "5d41402abc4b2a76b9719d911017c592"),
    ("${literal('hello'):hash('SHA-1')}", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    (
        "${literal('hello'):hash('SHA-256')}",
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ),
    ("${literal('hello'):hash('SHA-512'):length()}", "128"),
    ("${literal('hello'):hash('SHA-384'):length()}", "96"),
    ("${literal('hello'):hash('SHA-224'):length()}", "56"),
    (
        "${literal('www.example.com'):UUID3('6ba7b810-9dad-11d1-80b4-00c04fd430c8')}",
        "5df41881-3aed-3515-88a7-2f4a814cf09e",
    ),
    (
        "${literal('www.example.com'):UUID5('6ba7b810-9dad-11d1-80b4-00c04fd430c8')}",
        "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    ),
    # searching
    ("${filename:startsWith('a brand')}", "true"),
    ("${filename:startsWith('A BRAND')}", "false"),
    ("${filename:toUpper():startsWith('A BRAND')}", "true"),
    ("${filename:endsWith('txt')}", "true"),
    ("${filename:endsWith('TXT')}", "false"),
    ("${filename:toUpper():endsWith('TXT')}", "true"),
    ("${filename:contains('new')}", "true"),
    ("${filename:contains('NEW')}", "false"),
    ("${filename:toUpper():contains('NEW')}", "true"),
    ("${missing:contains('x')}", "false"),
    ('${myEnum:in("PAUL", "JOHN", "MIKE")}', "true"),
    ('${myEnum:in("RED", "GREEN", "BLUE")}', "false"),
    ("${missing:in('a')}", "false"),
    ("${filename:find('a [Bb]rand [Nn]ew')}", "true"),
    ("${filename:find('Brand.*')}", "false"),
    ("${filename:find('brand')}", "true"),
    ("${filename:matches('a.*txt')}", "true"),
    ("${filename:matches('brand')}", "false"),
    ("${filename:matches('.+brand.+')}", "true"),
    ("${filename:matches('\\p{Alpha}.*')}", "true"),
    ("${filename:matches('(?i)A BRAND.*')}", "true"),
    ("${filename:indexOf('a.*txt')}", "-1"),
    ("${filename:indexOf('.')}", "20"),
    ("${filename:indexOf('a')}", "0"),
    ("${filename:indexOf(' ')}", "1"),
    ("${filename:lastIndexOf('a.*txt')}", "-1"),
    ("${filename:lastIndexOf('.')}", "20"),
    ("${filename:lastIndexOf('a')}", "17"),
    ("${filename:lastIndexOf(' ')}", "11"),
    ("${missing:indexOf('a')}", "-1"),
    ("${myJson:isJson()}", "true"),
    ("${literal('[1,2]'):isJson()}", "true"),
    ("${literal('\"str\"'):isJson()}", "false"),
    ("${filename:isJson()}", "false"),
    # JSONPath
    ("${myJson:jsonPath('$.firstName')}", "John"),
    ("${myJson:jsonPath('$.address.postalCode')}", "10021-3100"),
    (
        "${myJson:jsonPath('$.phoneNumbers[?(@.type==\"home\")].number')}",
        "212 555-1234",
    ),
    (
        "${myJson:jsonPath('$.phoneNumbers')}",
        '[{"type":"home","number":"212 555-1234"},'
        '{"type":"office","number":"646 555-4567"}]',
    ),
    ("${myJson:jsonPath('$.missing-path')}", ""),
    ("${myJson:jsonPath('$.age')}", "25"),
    ("${myJson:jsonPath('$.isAlive')}", "true"),
    ("${myJson:jsonPath('$.spouse')}", ""),
    ("${myJson:jsonPath('$.children')}", "[]"),
    ("${myJson:jsonPath('$.phoneNumbers[*].type')}", '["home","office"]'),
    ("${myJson:jsonPath('$..city')}", "New York"),
    ("${literal('{\"a\":1.50}'):jsonPath('$.a')}", "1.5"),
    ("${literal('{\"a\":1,\"b\":2}'):jsonPathDelete('$.a')}", '{"b":2}'),
    ("${literal('{\"a\":[1,2,3]}'):jsonPathDelete('$.a[1]')}", '{"a":[1,3]}'),
    ("${literal('{\"a\":1}'):jsonPathDelete('$.zzz')}", '{"a":1}'),
    ("${literal('{\"a\":1}'):jsonPathSet('$.a', 'x')}", '{"a":"x"}'),
    ("${literal('{\"a\":1}'):jsonPathSet('$.a', 42)}", '{"a":42}'),
    ("${literal('{\"a\":1}'):jsonPathSet('$.a', true)}", '{"a":true}'),
    ("${literal('{\"a\":1}'):jsonPathSet('$.a', 1.5)}", '{"a":1.5}'),
    ("${literal('{\"a\":[1]}'):jsonPathAdd('$.a', 2)}", '{"a":[1,2]}'),
    ("${literal('{\"a\":{}}'):jsonPathPut('$.a', 'k', 'v')}", '{"a":{"k":"v"}}'),
    ("${literal('{}'):jsonPathPut('$', 'nickname', 'Jimmy')}", '{"nickname":"Jimmy"}'),
    # multi-attribute functions
    ('${anyAttribute("abc", "xyz"):contains("bye")}', "true"),
    ('${anyAttribute("filename","xyz"):toUpper():contains("e")}', "false"),
    ('${allAttributes("abc", "xyz"):contains("world")}', "true"),
    ('${allAttributes("abc", "filename","xyz"):toUpper():contains("e")}', "false"),
    ("${anyMatchingAttribute(\"[ax].*\"):contains('bye')}", "true"),
    ('${anyMatchingAttribute(".*"):isNull()}', "false"),
    ('${allMatchingAttributes("[ax].*"):contains("world")}', "true"),
    ('${allMatchingAttributes(".*"):isNull()}', "false"),
    ('${allMatchingAttributes("f.*"):count()}', "1"),
    ('${anyDelineatedValue("${number_list}", ","):contains("5")}', "true"),
    ('${anyDelineatedValue("this that and", ","):equals("${word_list}")}', "false"),
    ('${allDelineatedValues("${word_list}", ","):contains("o")}', "true"),
    ('${allDelineatedValues("${number_list}", ","):count()}', "5"),
    ('${allDelineatedValues("${number_list}", ","):matches("[0-9]+")}', "true"),
    ('${allDelineatedValues("${word_list}", ","):matches(\'e\')}', "false"),
    ('${allMatchingAttributes("[ax].*"):substringBefore(" "):join("-")}', "hello-good"),
    ('${allAttributes("abc", "xyz"):join(" now")}', "hello world nowgood bye world"),
    ('${allMatchingAttributes("[ax].*"):substringBefore(" "):count()}', "2"),
    ('${allAttributes("abc", "xyz"):contains("world"):count()}', "2"),
    ('${allAttributes("abc", "xyz"):contains("bye"):count()}', "1"),
    ('${allDelineatedValues(${number_list}, ","):count()}', "5"),
    ('${allAttributes("abc", "non-existent-attr", "xyz"):count()}', "2"),
    ('${allMatchingAttributes("[ax].*"):length():gt(10):count()}', "2"),
    ("${literal( ${allMatchingAttributes('a.*'):count()} ):gt(3)}", "false"),
    ("${allAttributes('abc', 'xyz'):equals(${abc})}", "false"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_encode_search_and_multi_attribute_functions(
    expression: str, expected: str
) -> None:
    """Encode/search/JSONPath/multi-attribute functions evaluate as NiFi documents."""
    assert compile(expression).evaluate(attributes=ATTRS) == expected


EVAL_ERRORS = [
    "${missing:jsonPath('$.a')}",
    "${filename:jsonPath('$.a')}",
    "${literal(''):jsonPath('$.a')}",
    "${filename:find(${literal('[unclosed')})}",
    "${literal('%zz'):urlDecode()}",
    "${literal('!!!'):base64Decode()}",
    "${literal('x'):UUID3(${literal('not-a-uuid')})}",
    "${literal('x'):hash(${literal('NOPE')})}",
]


@pytest.mark.parametrize("expression", EVAL_ERRORS)
def test_search_and_encode_evaluation_errors(expression: str) -> None:
    """Invalid JSON subjects, regexes and encodings fail evaluation like NiFi."""
    with pytest.raises(ExpressionEvaluationError):
        compile(expression).evaluate(attributes=ATTRS)


COMPILE_ERRORS = [
    "${filename:find('[unclosed')}",
    "${filename:jsonPath('$.bad-json-path..')}",
    "${literal('x'):UUID5('not-a-uuid')}",
    "${literal('x'):hash('NOPE')}",
    "${allAttributes('a'):toUpper()}",
    "${anyAttribute('a')}",
    "${allAttributes('a', 'b'):count():plus(1)}",
    "${anyAttribute('a'):join(',')}",
]


@pytest.mark.parametrize("expression", COMPILE_ERRORS)
def test_literal_regex_path_and_multi_misuse_are_syntax_errors(expression: str) -> None:
    """Literal regexes/paths/namespaces and multi-attribute misuse fail compile()."""
    with pytest.raises(ExpressionSyntaxError):
        compile(expression)
