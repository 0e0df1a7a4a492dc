"""Table-driven tests of boolean logic and string functions (NiFi guide examples)."""

from __future__ import annotations

import pytest

from flowengine.expression import ExpressionEvaluationError, compile

ATTRS = {
    "filename": "a brand new filename.txt",
    "abc": "hello world",
    "xyz": "good bye world",
    "bool": "true",
    "blank": "   ",
    "empty": "",
    "line": '"Jacobson, John", 32, Mr.',
    "altLine": "Jacobson, John|32|Mr.",
    "attr": "     1 2 3     ",
    "greetings": "hello",
    "str": "abc",
    "myEnum": "JOHN",
    "fileSize": "100",
    "upper": "ABC123.TXT",
    "list": "a, b,, c ,a",
    "num": "42",
    "dec": "3.5",
    "neg": "-7",
    "spaced": "  5  ",
}

CASES = [
    # isNull / notNull / isEmpty
    ("${filename:isNull()}", "false"),
    ("${missing:isNull()}", "true"),
    ("${filename:notNull()}", "true"),
    ("${missing:notNull()}", "false"),
    ("${missing:isEmpty()}", "true"),
    ("${blank:isEmpty()}", "true"),
    ("${empty:isEmpty()}", "true"),
    ("${filename:isEmpty()}", "false"),
    ('${literal(" "):isEmpty()}', "true"),
    ('${literal(""):isEmpty()}', "true"),
    # equals / equalsIgnoreCase
    ("${filename:equals('a brand new filename.txt')}", "true"),
    ("${filename:equals('A BRAND NEW FILENAME.TXT')}", "false"),
    ("${filename:equals(${filename})}", "true"),
    ("${missing:equals('x')}", "false"),
    ("${fileSize:equals(100)}", "true"),
    ("${fileSize:toNumber():equals(100)}", "true"),
    ("${fileSize:toNumber():equals('100')}", "true"),
    ("${dec:toDecimal():equals(3.5)}", "true"),
    ("${bool:equals(true)}", "true"),
    ("${filename:equalsIgnoreCase('A BRAND NEW FILENAME.TXT')}", "true"),
    ("${filename:equalsIgnoreCase('HeLLo.TxT')}", "false"),
    ("${missing:equalsIgnoreCase('x')}", "false"),
    # gt ge lt le
    ("${fileSize:gt(99)}", "true"),
    ("${fileSize:gt(100)}", "false"),
    ("${fileSize:ge(100)}", "true"),
    ("${fileSize:lt(101)}", "true"),
    ("${fileSize:le(99)}", "false"),
    ("${filename:gt(1)}", "false"),
    ("${filename:lt(1)}", "false"),
    ("${missing:ge(0)}", "false"),
    ("${fileSize:gt('abc')}", "false"),
    ("${dec:gt(3)}", "true"),
    ("${dec:lt(3.6)}", "true"),
    ("${spaced:equals(5)}", "false"),
    ("${spaced:gt(4)}", "true"),
    # and / or / not / ifElse
    (
        "${filename:toLower():equals(${filename}):and(${filename:length():ge(5)})}",
        "true",
    ),
    ("${filename:startsWith('x'):and(${filename:length():ge(5)})}", "false"),
    ("${filename:startsWith('x'):or(${filename:length():equals(24)})}", "true"),
    ("${filename:startsWith('x'):or(${missing:isNull():not()})}", "false"),
    ("${bool:and(true)}", "true"),
    ("${bool:and('TRUE ')}", "true"),
    ("${filename:and(true)}", "false"),
    ("${missing:or(true)}", "true"),
    ("${filename:equals('hello.txt'):not()}", "true"),
    ("${bool:not()}", "false"),
    ("${missing:not()}", ""),
    ("${bool:not():not()}", "true"),
    ("${bool:ifElse('a','b')}", "a"),
    ("${literal(true):ifElse('a','b')}", "a"),
    (
        "${nullFilename:isNull():ifElse('file does not exist', 'located file')}",
        "file does not exist",
    ),
    ("${nullFilename:ifElse('found', 'not_found')}", "not_found"),
    ("${filename:ifElse('found', 'not_found')}", "not_found"),
    ("${filename:isNull():not():ifElse('found', 'not_found')}", "found"),
    ("${bool:ifElse(${filename}, ${missing})}", "a brand new filename.txt"),
    # toUpper toLower trim
    ("${filename:toUpper()}", "A BRAND NEW FILENAME.TXT"),
    ("${upper:toLower()}", "abc123.txt"),
    ("${attr:trim()}", "1 2 3"),
    ("${missing:toUpper()}", ""),
    ("${missing:trim():isNull()}", "true"),
    # substring family
    ("${filename:substring(0,1)}", "a"),
    ("${filename:substring(2)}", "brand new filename.txt"),
    ("${filename:substring(12)}", "filename.txt"),
    ("${filename:substring( ${filename:length():minus(2)} )}", "xt"),
    ("${filename:substring(24)}", ""),
    ("${missing:substring(1)}", ""),
    ("${filename:substringBefore('.')}", "a brand new filename"),
    ("${filename:substringBefore(' ')}", "a"),
    ("${filename:substringBefore(' n')}", "a brand"),
    ("${filename:substringBefore('missing')}", "a brand new filename.txt"),
    ("${missing:substringBefore('.'):isNull()}", "false"),
    ("${filename:substringBeforeLast('.')}", "a brand new filename"),
    ("${filename:substringBeforeLast(' ')}", "a brand new"),
    ("${filename:substringBeforeLast(' n')}", "a brand"),
    ("${filename:substringBeforeLast('missing')}", "a brand new filename.txt"),
    ("${filename:substringAfter('.')}", "txt"),
    ("${filename:substringAfter(' ')}", "brand new filename.txt"),
    ("${filename:substringAfter(' n')}", "ew filename.txt"),
    ("${filename:substringAfter('missing')}", "a brand new filename.txt"),
    ("${filename:substringAfterLast('.')}", "txt"),
    ("${filename:substringAfterLast(' ')}", "filename.txt"),
    ("${filename:substringAfterLast(' n')}", "ew filename.txt"),
    ("${filename:substringAfterLast('missing')}", "a brand new filename.txt"),
    ("${filename:substringAfter(${missing})}", "a brand new filename.txt"),
    # getDelimitedField
    ("${line:getDelimitedField(2)}", " 32"),
    ("${line:getDelimitedField(2):trim()}", "32"),
    ("${line:getDelimitedField(1)}", '"Jacobson, John"'),
    ("${line:getDelimitedField(1, ',', '\"', '\\\\', true)}", "Jacobson, John"),
    ("${altLine:getDelimitedField(1, '|')}", "Jacobson, John"),
    ("${altLine:getDelimitedField(3, '|')}", "Mr."),
    ("${altLine:getDelimitedField(4, '|')}", ""),
    ("${altLine:getDelimitedField(0, '|')}", ""),
    ("${missing:getDelimitedField(1)}", ""),
    # append prepend replace*
    ("${filename:append('.gz')}", "a brand new filename.txt.gz"),
    ("${missing:append('.gz')}", ".gz"),
    ("${filename:append(${missing})}", "a brand new filename.txt"),
    ("${filename:prepend('a brand new ')}", "a brand new a brand new filename.txt"),
    ("${missing:prepend('x')}", "x"),
    ("${filename:replace('.', '_')}", "a brand new filename_txt"),
    ("${filename:replace(' ', '.')}", "a.brand.new.filename.txt"),
    ("${filename:replace('XYZ', 'ZZZ')}", "a brand new filename.txt"),
    ("${filename:replace('filename', 'book')}", "a brand new book.txt"),
    ("${filename:replaceFirst('a', 'the')}", "the brand new filename.txt"),
    ("${filename:replaceFirst('[br]', 'g')}", "a grand new filename.txt"),
    ("${filename:replaceFirst('XYZ', 'ZZZ')}", "a brand new filename.txt"),
    ("${filename:replaceFirst('\\w{8}', 'book')}", "a brand new book.txt"),
    ("${filename:replaceAll('\\..*', '')}", "a brand new filename"),
    ("${filename:replaceAll('a brand (new)', '$1')}", "new filename.txt"),
    ("${filename:replaceAll('XYZ', 'ZZZ')}", "a brand new filename.txt"),
    (
        "${filename:replaceAll('brand (new)', 'somewhat $1')}",
        "a somewhat new filename.txt",
    ),
    ("${abc:replaceAll('(?<first>\\w+) (\\w+)', '$2 $${first}')}", "world hello"),
    ("${abc:replaceAll('o', '\\$')}", "hell$ w$rld"),
    ("${abc:replaceAll('\\p{Lower}+', 'x')}", "x x"),
    ("${abc:replaceAll('\\Q.\\E', 'x')}", "hello world"),
    ("${str:replaceByPattern('a.*:letters,[0-9]+:digits')}", "letters"),
    ("${num:replaceByPattern('a.*:letters,[0-9]+:digits')}", "digits"),
    ("${filename:replaceByPattern('zzz:none')}", "a brand new filename.txt"),
    ("${filename:replaceNull('abc')}", "a brand new filename.txt"),
    ("${hello:replaceNull('abc')}", "abc"),
    ("${filename:replaceEmpty('abc')}", "a brand new filename.txt"),
    ("${blank:replaceEmpty('abc')}", "abc"),
    ("${missing:replaceEmpty('abc')}", "abc"),
    # padding, length, repeat
    ("${greetings:padLeft(10)}", "_____hello"),
    ("${greetings:padLeft(10, '@')}", "@@@@@hello"),
    ("${greetings:padLeft(10, 'xy')}", "xyxyxhello"),
    ("${greetings:padLeft(10, 'aVeryLongPaddingString')}", "aVeryhello"),
    ("${greetings:padRight(10)}", "hello_____"),
    ("${greetings:padRight(10, '@')}", "hello@@@@@"),
    ("${greetings:padRight(10, 'xy')}", "helloxyxyx"),
    ("${greetings:padLeft(3)}", "hello"),
    ("${greetings:padLeft(-1)}", "hello"),
    ("${missing:padLeft(5):isNull()}", "true"),
    ("${filename:length()}", "24"),
    ("${hello:length()}", "0"),
    ("${str:repeat(1)}", "abc"),
    ("${str:repeat(2)}", "abcabc"),
    ("${str:repeat(3,3)}", "abcabcabc"),
    # delimited lists
    ("${list:compactDelimitedList(',')}", "a,b,c,a"),
    ("${list:trimDelimitedList(',')}", "a,b,,c,a"),
    ("${literal('a,b,a,c,b'):unique(',')}", "a,b,c"),
    # type coercion
    ("${fileSize:toNumber():toString()}", "100"),
    ("${dec:toNumber()}", "3"),
    ("${neg:toNumber()}", "-7"),
    ("${literal('-3.9'):toNumber()}", "-3"),
    ("${fileSize:toDecimal()}", "100.0"),
    ("${literal(''):toNumber():isNull()}", "true"),
    ("${literal('0xF'):toNumber()}", "15"),
    ("${literal('0xF.Fp10'):toDecimal()}", "16320.0"),
    ("${literal(2):gt(1)}", "true"),
    ("${literal('text')}", "text"),
    ("${literal(1.10)}", "1.1"),
    ("${literal(true)}", "true"),
    ("${literal(null):isNull()}", "true"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_string_and_boolean_functions(expression: str, expected: str) -> None:
    """Each boolean/string function evaluates as the NiFi guide documents."""
    assert compile(expression).evaluate(attributes=ATTRS) == expected


ERRORS = [
    "${filename:substring(30)}",
    "${filename:substring(5, 2)}",
    "${filename:substring(${missing})}",
    "${line:getDelimitedField(1, '||')}",
    "${line:getDelimitedField(1, ',', ',')}",
    "${str:repeat(0)}",
    "${str:repeat(3, 1)}",
    "${abc:replaceAll('o', '$')}",
    "${abc:replaceAll('(o)', '$2')}",
]


@pytest.mark.parametrize("expression", ERRORS)
def test_string_evaluation_errors(expression: str) -> None:
    """Where NiFi throws while evaluating, evaluate raises ExpressionEvaluationError."""
    with pytest.raises(ExpressionEvaluationError):
        compile(expression).evaluate(attributes=ATTRS)


def test_repeat_range_is_random_within_bounds() -> None:
    """repeat(min, max) repeats the subject a random count between min and max."""
    results = {
        compile("${str:repeat(1,2)}").evaluate(attributes=ATTRS) for _ in range(50)
    }
    assert results <= {"abc", "abcabc"}
