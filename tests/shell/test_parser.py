"""Text ReQL: the parser's JSON must be what the official driver sends for the same text.

The reference is the driver itself: each expression is evaluated as Python with the
driver's ``r`` and serialised with ``ReQLEncoder``; lambda variable ids (a global
counter in the driver) are renumbered by first appearance on both sides.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.ast import ReQLEncoder

from reqlite.shell import ShellError, parse
from reqlite.shell.parser import receiver_class
from reqlite.shell.repl import completions, is_complete

ENCODER = ReQLEncoder()
FUNC, VAR, MAKE_ARRAY = 69, 10, 2


def normalise(term: Any) -> Any:
    """Renumber FUNC/VAR ids by order of first appearance."""
    ids: dict[int, int] = {}

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if not isinstance(x, list) or not x:
            return x
        if x[0] == FUNC and len(x) >= 2 and isinstance(x[1], list) and len(x[1]) == 2:
            params = x[1][0]
            if isinstance(params, list) and params and params[0] == MAKE_ARRAY:
                new = [ids.setdefault(i, len(ids) + 1) for i in params[1]]
                return [FUNC, [[MAKE_ARRAY, new], walk(x[1][1])], *[walk(y) for y in x[2:]]]
        if x[0] == VAR and len(x) == 2 and isinstance(x[1], list) and len(x[1]) == 1:
            return [VAR, [ids.setdefault(x[1][0], len(ids) + 1)]]
        return [walk(y) for y in x]

    return walk(term)


def canonical(term: Any) -> str:
    # Text comparison keeps 1 and 1.0 and True apart.
    return json.dumps(normalise(term), ensure_ascii=False, separators=(",", ":"))


def driver_json(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "'int' object is not subscriptable"
        value = eval(text, {"r": r})  # noqa: S307 - the driver is the test oracle
    return json.loads(ENCODER.encode(r.expr(value)))


def driver_outcome(text: str) -> tuple[str, Any]:
    try:
        return "ok", driver_json(text)
    except Exception as exc:  # noqa: BLE001 - any driver-side refusal
        return "error", type(exc).__name__


def assert_same(text: str) -> None:
    expected = driver_json(text)
    got = parse(text).term
    assert canonical(got) == canonical(expected), text


EXPRESSIONS = [
    # literals
    "1", "-1", "1.5", "-0.0", "1e3", "1E-3", ".5", "5.", "0x1F", "0o17", "0b101", "1_000_000",
    "2**62", "10**20", "'abc'", '"abc"', "'a\\nb\\t\\u00e9\\x41\\'\\\\'", "r'raw\\n'", "'''tri\nple'''",
    "'a' 'b'", "u'x'", "True", "False", "None", "[]", "[1, 2, 3]", "[1, [2, [3]]]", "()", "(1,)", "(1, 2)",
    "{}", "{'a': 1}", "{'a': {'b': [1, None]}}", "{'a': 1, 'a': 2}", "b'\\x00\\xff'", "r.expr(b'abc')",
    "r.expr({'a': b'x'})", "'é✓😀'",
    # Python folding of plain values
    "1 + 2 * 3", "(1 + 2) * 3", "7 / 2", "7 % 3", "2 ** 10", "-2 ** 2", "7 // 2", "1 << 4", "5 & 3 | 8",
    "5 ^ 1", "~5", "~True", "[1] + [2]", "[0] * 3", "(1,) + (2,)", "'ab' * 2", "'x' + 'y'", "1 < 2",
    "1 < 2 < 3", "3 > 2 > 5", "1 == 1.0", "'a' in 'abc'", "1 not in [1]", "None is None", "not 0",
    "1 and 2", "0 or 'x'", "[1, 2, 3][1]", "[1, 2, 3][-1]", "[1, 2, 3][1:]", "{'a': 5}['a']", "'abc'[1:]",
    "[r.row] + [1]", "[r.row['a']] * 2", "{'a': 1} | {'b': 2}",
    # Python comparing containers that hold terms (an EQ term is true to Python)
    "~([] == [r.row['a']])", "[r.row] == [1]", "[r.row] != [1]", "[r.row, 1] < [r.row, 2]",
    "[r.row] < [1]", "[1] < [r.row]", "{'a': r.row} == {'a': 1}", "{'a': r.row} == {'b': 1}",
    "(lambda x: x) == 1", "[r.row] in [[1]]", "'a' in {'a': r.row}", "[r.row] <= [r.row]",
    # '...' % term is Python string formatting (a term looks like a mapping), not MOD
    "'abc' % r.row", "'%%' % r.row['a']", "b'x' % r.row", "5 % r.row",
    # r namespace
    "r.db_list()", "r.db('test')", "r.db('test').table_list()", "r.table('t')", "r.db('d').table('t')",
    "r.table('t', read_mode='outdated')", "r.db('d').table('t', identifier_format='uuid')",
    "r.table_create('t')", "r.table_create('t', primary_key='k', durability='soft')",
    "r.db('d').table_create('t', shards=1)", "r.table_drop('t')", "r.db('d').table_drop('t')",
    "r.table_list()", "r.db_create('x')", "r.db_drop('x')", "r.expr(1)", "r.expr([1, [2]])",
    "r.expr({'a': r.row['b']})", "r.expr(r.table('t'))", "r.expr([[1]], 3)", "r.row", "r.row['a']",
    "r.row['a']['b']", "r.minval", "r.maxval", "r.monday", "r.december", "r.now()",
    "r.time(2020, 1, 2, 'Z')", "r.epoch_time(0)", "r.iso8601('2020-01-01T00:00:00Z', default_timezone='Z')",
    "r.uuid()", "r.uuid('x')", "r.random()", "r.random(1, 10, float=True)", "r.range()", "r.range(10)",
    "r.range(1, 5)", "r.js('1 + 1')", "r.js('1', timeout=2)", "r.json('[1]')", "r.literal({'a': 1})",
    "r.literal()", "r.object('a', 1)", "r.error('boom')", "r.error()", "r.args([1, 2])",
    "r.args(r.expr([1]))", "r.binary(b'xyz')", "r.binary(r.expr('a').coerce_to('binary'))",
    "r.branch(r.row['a'], 1, 2)", "r.branch(True, 1, False, 2, 3)", "r.do(1, lambda x: x)",
    "r.do(1, 2, lambda a, b: a + b)", "r.do(r.row)", "r.union([1], [2])", "r.map([1], lambda x: x)",
    "r.map([1], [2], lambda a, b: a + b)", "r.group([1], r.row)", "r.count([1])", "r.sum([1], r.row)",
    "r.avg([1])", "r.min([1])", "r.max([1])", "r.distinct([1])", "r.contains([1], 1)",
    "r.reduce([1], lambda a, b: a + b)", "r.asc('a')", "r.desc(r.row['a'])", "r.desc(lambda d: d['a'])",
    "r.eq(1, 2)", "r.ne(1, 2, 3)", "r.lt(1, 2)", "r.le(1, 2)", "r.gt(1, 2)", "r.ge(1, 2)", "r.add(1, 2)",
    "r.sub(1, 2)", "r.mul(1, 2)", "r.div(1, 2)", "r.mod(1, 2)", "r.and_(True, False)", "r.or_(True)",
    "r.not_(True)", "r.bit_and(1, 2)", "r.bit_or(1, 2)", "r.bit_xor(1, 2)", "r.bit_not(1)",
    "r.bit_sal(1, 2)", "r.bit_sar(1, 2)", "r.floor(1.5)", "r.ceil(1.5)", "r.round(1.5)", "r.type_of(1)",
    "r.info(1)", "r.point(1, 2)", "r.line([0, 0], [1, 1])", "r.polygon([0, 0], [1, 0], [1, 1])",
    "r.circle([0, 0], 10, num_vertices=8, unit='km')", "r.distance(r.point(0, 0), r.point(1, 1), unit='km')",
    "r.intersects(r.point(0, 0), r.point(0, 0))", "r.geojson({'type': 'Point', 'coordinates': [0, 0]})",
    "r.http('http://x', method='GET')", "r.http(r.row['url'])", "r.grant('u', {'read': True})",
    "r.db('d').grant('u', {'read': True})", "r.table('t').grant('u', {'read': True})",
    # operators on terms
    "r.row['a'] + 1", "1 + r.row['a']", "r.row['a'] - 1", "1 - r.row['a']", "r.row['a'] * 2",
    "2 * r.row['a']", "r.row['a'] / 2", "2 / r.row['a']", "r.row['a'] % 2", "2 % r.row['a']",
    "r.row['a'] == 1", "1 == r.row['a']", "r.row['a'] != 1", "1 != r.row['a']", "r.row['a'] < 1",
    "1 < r.row['a']", "r.row['a'] <= 1", "1 <= r.row['a']", "r.row['a'] > 1", "1 > r.row['a']",
    "r.row['a'] >= 1", "1 >= r.row['a']", "(r.row['a'] > 1) & (r.row['b'] < 2)",
    "(r.row['a'] > 1) | (r.row['b'] < 2)", "True & r.row['x']", "False | r.row['x']", "~r.row['a']",
    "~(r.row['a'] == 1)", "r.row['a'] + r.row['b'] * 2 - 1", "(r.row['a'] + 1) * 2",
    "r.expr(1) + 2 + 3", "[1] + r.row['l']", "'s' + r.row['s']", "{'a': 1} == r.row",
    "r.row['a'][0]", "r.row['a'][-1]", "r.row['a'][1:3]", "r.row['a'][1:]", "r.row['a'][:2]",
    "r.row['a'][:]", "r.row['a'][1:0]", "r.row['a'][0:-1]", "r.row['a'][r.row['i']]",
    "r.row['a'][r.row['i']:r.row['j']]", "r.row['a'][1, 2]", "r.row[('a', 'b')]",
    # methods
    "r.table('t').get(1)", "r.table('t').get_all(1, 2, index='a')", "r.table('t').get_all(r.args([1]))",
    "r.table('t').insert({'a': 1})", "r.table('t').insert([{'a': 1}], conflict='replace', return_changes=True)",
    "r.table('t').insert({'a': 1}, conflict=lambda id, old, new: new)",
    "r.table('t').get(1).update({'n': r.row['n'] + 1})", "r.table('t').update(lambda d: {'n': d['n'] + 1})",
    "r.table('t').update({'a': 1}, durability='soft', non_atomic=True)", "r.table('t').get(1).replace(r.row)",
    "r.table('t').replace(lambda d: d.without('x'))", "r.table('t').delete()", "r.table('t').get(1).delete(return_changes=True)",
    "r.table('t').filter(r.row['age'] > 30)", "r.table('t').filter({'a': 1})",
    "r.table('t').filter(lambda d: d['a'] == 1, default=True)", "r.table('t').filter(r.row['a'], default=r.error())",
    "r.table('t').map(r.row['a'])", "r.table('t').map(lambda d: d['a'])", "r.table('t').map(r.table('u'), lambda a, b: a)",
    "r.table('t').concat_map(lambda d: d['tags'])", "r.table('t').order_by('a')",
    "r.table('t').order_by(r.desc('a'), r.asc('b'))", "r.table('t').order_by(r.row['a'])",
    "r.table('t').order_by(index=r.desc('id'))", "r.table('t').order_by(lambda d: d['a'], index='id')",
    "r.table('t').between(1, 5)", "r.table('t').between(r.minval, r.maxval, index='a', left_bound='open')",
    "r.table('t').distinct()", "r.table('t').distinct(index='a')", "r.table('t').count()",
    "r.table('t').count(r.row['a'] > 1)", "r.table('t').count(lambda d: d['a'])", "r.table('t').sum('a')",
    "r.table('t').sum(r.row['a'])", "r.table('t').avg(lambda d: d['a'])", "r.table('t').min('a')",
    "r.table('t').min(index='a')", "r.table('t').max(r.row['a'])", "r.table('t').max(index='id')",
    "r.table('t').reduce(lambda a, b: a + b)", "r.table('t').fold(0, lambda acc, d: acc + 1)",
    "r.table('t').fold(0, lambda acc, d: acc + 1, emit=lambda acc, d, new: [new], final_emit=lambda acc: [acc])",
    "r.table('t').group('a')", "r.table('t').group(r.row['a'], index='b', multi=True)",
    "r.table('t').group(lambda d: d['a']).count()", "r.table('t').group('a').ungroup()",
    "r.table('t').union(r.table('u'))", "r.table('t').union(r.table('u'), interleave='a')",
    "r.table('t').union([1], interleave=r.row['a'])", "r.table('t').inner_join(r.table('u'), lambda a, b: a['id'] == b['id'])",
    "r.table('t').outer_join(r.table('u'), lambda a, b: True)", "r.table('t').eq_join('a', r.table('u'))",
    "r.table('t').eq_join(r.row['a'], r.table('u'), index='b')", "r.table('t').eq_join('a', r.table('u')).zip()",
    "r.table('t').with_fields('a', 'b')", "r.table('t').has_fields('a')", "r.table('t').pluck('a', {'b': ['c']})",
    "r.table('t').without('a')", "r.table('t').merge({'x': 1})", "r.table('t').merge(lambda d: {'x': d['a']})",
    "r.table('t').merge(r.row['a'])", "r.table('t').skip(1).limit(2)", "r.table('t').slice(1, 2)",
    "r.table('t').slice(1, 2, left_bound='open', right_bound='closed')", "r.table('t').nth(0)",
    "r.table('t').sample(3)", "r.table('t').is_empty()", "r.table('t').offsets_of(r.row['a'] == 1)",
    "r.table('t').contains(r.row['a'] == 1)", "r.table('t').contains(1, 2)",
    "r.table('t').for_each(lambda d: r.table('u').insert(d))", "r.table('t').changes()",
    "r.table('t').changes(squash=True, include_initial=True, include_states=True)",
    "r.table('t').get(1).changes()", "r.table('t').order_by(index='a').limit(3).changes()",
    "r.table('t').index_create('a')", "r.table('t').index_create('a', r.row['b'], multi=True)",
    "r.table('t').index_create('a', lambda d: [d['x'], d['y']], geo=False)",
    "r.table('t').index_create('a', r.row['b'], r.row['c'])", "r.table('t').index_drop('a')",
    "r.table('t').index_rename('a', 'b', overwrite=True)", "r.table('t').index_list()",
    "r.table('t').index_status()", "r.table('t').index_status('a', 'b')", "r.table('t').index_wait()",
    "r.table('t').status()", "r.table('t').config()", "r.db('d').config()", "r.table('t').wait()",
    "r.table('t').wait(wait_for='all_replicas_ready', timeout=1)", "r.db('d').wait()",
    "r.table('t').reconfigure(shards=1, replicas=1)", "r.table('t').reconfigure(dry_run=True, shards=2, replicas=1)",
    "r.db('d').reconfigure(shards=1, replicas=1)", "r.table('t').rebalance()", "r.db('d').rebalance()",
    "r.table('t').sync()", "r.table('t').set_write_hook(lambda ctx, old, new: new)",
    "r.table('t').set_write_hook(None)", "r.table('t').get_write_hook()",
    "r.table('t').get_intersecting(r.point(0, 0), index='g')",
    "r.table('t').get_nearest(r.point(0, 0), index='g', max_results=2)",
    "r.expr([1, 2]).append(3)", "r.expr([1]).prepend(0)", "r.expr([1]).difference([1])",
    "r.expr([1]).set_insert(2)", "r.expr([1]).set_union([2])", "r.expr([1]).set_intersection([1])",
    "r.expr([1]).set_difference([1])", "r.expr([1]).insert_at(0, 2)", "r.expr([1]).splice_at(0, [2])",
    "r.expr([1]).delete_at(0)", "r.expr([1]).delete_at(0, 1)", "r.expr([1]).change_at(0, 2)",
    "r.expr({'a': 1}).keys()", "r.expr({'a': 1}).values()", "r.expr({'a': 1}).get_field('a')",
    "r.expr({'a': 1})['a']", "r.expr('a').match('a')", "r.expr('a b').split()", "r.expr('a b').split(' ', 1)",
    "r.expr('a').upcase()", "r.expr('A').downcase()", "r.expr(1).to_json()", "r.expr(1).to_json_string()",
    "r.expr('1').coerce_to('number')", "r.expr(1).type_of()", "r.expr(1).info()", "r.expr(1).default(2)",
    "r.expr(1).do(lambda x: x + 1)", "r.expr(1).do(2, lambda a, b: a + b)", "r.expr(1).do(r.row + 1)",
    "r.expr(1).do(5)", "r.expr(True).branch(1, 2)", "r.expr(1).eq(1)", "r.expr(1).ne(1, 2)",
    "r.expr(1).lt(2)", "r.expr(1).le(2)", "r.expr(1).gt(2)", "r.expr(1).ge(2)", "r.expr(1).add(2, 3)",
    "r.expr(1).sub(2)", "r.expr(1).mul(2)", "r.expr(1).div(2)", "r.expr(1).mod(2)", "r.expr(1).bit_and(2)",
    "r.expr(1).bit_or(2)", "r.expr(1).bit_xor(2)", "r.expr(1).bit_not()", "r.expr(1).bit_sal(2)",
    "r.expr(1).bit_sar(2)", "r.expr(1.5).floor()", "r.expr(1.5).ceil()", "r.expr(1.5).round()",
    "r.expr(True).and_(False)", "r.expr(True).or_(False)", "r.expr(True).not_()",
    "r.now().to_iso8601()", "r.now().to_epoch_time()", "r.now().during(r.now(), r.now(), left_bound='open')",
    "r.now().date()", "r.now().time_of_day()", "r.now().timezone()", "r.now().year()", "r.now().month()",
    "r.now().day()", "r.now().day_of_week()", "r.now().day_of_year()", "r.now().hours()",
    "r.now().minutes()", "r.now().seconds()", "r.now().in_timezone('+01:00')",
    "r.point(0, 0).to_geojson()", "r.point(0, 0).distance(r.point(1, 1), geo_system='WGS84')",
    "r.point(0, 0).intersects(r.point(0, 0))", "r.polygon([0, 0], [1, 0], [1, 1]).includes(r.point(0, 0))",
    "r.line([0, 0], [1, 0], [1, 1]).fill()",
    "r.polygon([0, 0], [9, 0], [9, 9]).polygon_sub(r.polygon([1, 1], [2, 1], [2, 2]))",
    # lambdas and r.row wrapping
    "r.expr([1]).map(lambda x: x.map(lambda y: y + x))", "r.expr([1]).map(lambda x: x.map(lambda x: x))",
    "r.expr([1]).map(lambda: 1)", "r.expr([1]).map(lambda x, y: [x, y])", "r.expr(lambda x: x)",
    "r.expr([lambda x: x])", "r.expr([[1]]).map(lambda x: [lambda y: x])",
    "r.table('t').filter(lambda d: r.row['a'])", "r.table('t').filter(r.row['a'].contains(lambda t: t == 1))",
    "r.table('t').filter(lambda d: d['tags'].contains(r.row == 'x'))",
    "r.table('t').map(lambda d: d.merge({'y': r.table('u').get(d['id'])}))",
    "r.table('t').filter({'a': r.row['b']})", "r.table('t').update({'a': r.row['b'].default(0) + 1})",
    "r.table('t').filter(r.row['a'] == r.row['b'])", "r.expr(1).do(lambda x: r.expr([1]).map(lambda y: x + y))",
    # run options
    "r.expr(1)",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_same_json_as_the_driver(text: str) -> None:
    assert_same(text)


def test_run_options_become_global_optargs() -> None:
    p = parse("r.table('t').count().run(db='shop', durability='soft', array_limit=5)")
    assert canonical(p.term) == canonical(driver_json("r.table('t').count()"))
    assert p.optargs_json() == {"db": [14, ["shop"]], "durability": "soft", "array_limit": 5}
    # `.run(conn)` pasted from Python code: the connection argument is ignored.
    assert parse("r.expr(1).run(conn)").optargs_json() == {}


DRIVER_REFUSALS = [
    ("r.row['a'] > 1 & r.row['b'] < 2", "ReqlDriverCompileError"),
    ("(r.row['a'] | r.row['b']) == 1", "ReqlDriverCompileError"),
    ("r.expr(r.row['a'] & True).eq(1)", "ReqlDriverCompileError"),
    ("r.do()", "ReqlDriverCompileError"),
    ("r.expr(" + "[" * 20 + "1" + "]" * 20 + ")", "ReqlDriverCompileError"),
    ("r.expr([[1]], 2)", "ReqlDriverCompileError"),
    ("r.expr({1: 2})", "ReqlDriverCompileError"),
    ("r.binary('text')", "ReqlDriverCompileError"),
    ("r.binary(1)", "ReqlDriverCompileError"),
    ("r.table('t').count(index='a')", "TypeError"),
    ("r.expr(1).insert({})", "AttributeError"),
    ("r.table('t').filter(1).get(1)", "AttributeError"),
    ("r.db('d').get(1)", "AttributeError"),
    ("r.nope()", "AttributeError"),
    ("r.row()", "TypeError"),
    ("r.monday()", "TypeError"),
    ("-r.row", "TypeError"),
    ("r.row ** 2", "TypeError"),
    ("r.row ^ 2", "TypeError"),
    ("r.row // 2", "TypeError"),
    ("1 / 0", "ZeroDivisionError"),
    ("'a' - 1", "TypeError"),
    ("r.expr(1e999)", "ValueError"),
    ("{r.row: 1}", "TypeError"),
    ("[1][r.row]", "TypeError"),
    ("r.expr(1).do(*r.row)", "ReqlDriverError"),
]


@pytest.mark.parametrize(("text", "kind"), DRIVER_REFUSALS)
def test_driver_refusals_are_parse_errors(text: str, kind: str) -> None:
    status, _ = driver_outcome(text)
    assert status == "error"
    with pytest.raises(ShellError) as info:
        parse(text)
    assert info.value.kind == kind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Deliberate: the driver would silently drop part of these; the shell refuses.
        ("1 < r.row['a'] < 3", "chained comparisons"),
        ("r.row['a'] and r.row['b']", "use & (or r.and_(...))"),
        ("r.row['a'] or 1", "use | (or r.or_(...))"),
        ("not r.row['a']", "use ~"),
        ("1 in r.row['a']", ".contains("),
        ("r.row['a'] is None", "=="),
        ("r.row[::2]", "no step"),
    ],
)
def test_shell_refuses_silent_python_pitfalls(text: str, message: str) -> None:
    with pytest.raises(ShellError) as info:
        parse(text)
    assert message in info.value.message


def caret_of(text: str) -> tuple[str, str]:
    """(message, caret line) of the error of ``text``."""
    with pytest.raises(ShellError) as info:
        parse(text)
    lines = str(info.value).split("\n")
    carets = [ln for ln in lines if ln.strip() and set(ln.strip()) == {"^"}]
    assert carets, str(info.value)
    return info.value.message, carets[0]


def test_caret_under_unexpected_token() -> None:
    msg, carets = caret_of("r.table('t').filter(r.row['a'] > 1))")
    assert msg.startswith("unexpected ')'")
    assert carets == " " * 35 + "^"


def test_caret_under_unknown_method_name() -> None:
    msg, carets = caret_of("r.table('t').fitler(1)")
    assert "has no attribute 'fitler'" in msg and "did you mean filter" in msg
    assert carets == " " * 13 + "^^^^^^"


def test_caret_under_unbound_name_on_later_line() -> None:
    text = "r.table('t')\n  .filter(\n     lambda d: e['a'])"
    with pytest.raises(ShellError) as info:
        parse(text)
    assert info.value.kind == "NameError"
    out = str(info.value).split("\n")
    assert out[-2] == "     lambda d: e['a'])"
    assert out[-1] == " " * 15 + "^"


def test_caret_for_bad_character_and_strings() -> None:
    msg, carets = caret_of("r.expr(1) $ 2")
    assert msg == "unexpected character '$'" and carets == " " * 10 + "^"
    msg, _ = caret_of("r.expr('abc)")
    assert msg == "unterminated string literal"
    msg, _ = caret_of("r.expr(0777)")
    assert msg.startswith("invalid number literal")
    msg, _ = caret_of("r.expr('a' b'b')")
    assert msg == "cannot mix bytes and nonbytes literals"


def test_bare_function_call_hint() -> None:
    msg, _ = caret_of("db_list()")
    assert "did you mean r.db_list(...)?" in msg


def test_incomplete_input_is_flagged() -> None:
    for text in ["r.table('t').filter(", "r.expr([1,", "r.expr(1) +", "r.expr('''a\nb", "lambda x:"]:
        with pytest.raises(ShellError) as info:
            parse(text)
        assert info.value.incomplete, text
        assert not is_complete(text)
    for text in ["r.expr(1))", "r.expr('a)", "r.expr(1)", "r.nope()", "help", "use test"]:
        assert is_complete(text), text


def test_argument_rules() -> None:
    assert_same("r.expr([1, 2]).do(*[3, lambda a, b, c: a])")
    assert canonical(parse("r.table('t').insert({}, **{'durability': 'soft'})").term) == canonical(
        driver_json("r.table('t').insert({}, durability='soft')")
    )
    for bad in [
        "r.table('t').insert(durability='soft', {})",
        "r.table('t').insert({}, durability='soft', durability='hard')",
        "r.table('t').insert({}, **{'durability': 1}, durability='hard')",
        "r.table('t').insert({}, **[1])",
    ]:
        with pytest.raises(ShellError):
            parse(bad)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert parse("r.expr(" + "(" * 3000 + "1" + ")" * 3000 + ")").term == 1
    with pytest.raises(ShellError, match="too deeply nested|Nesting depth"):
        parse("r.expr(" + "[" * 3000 + "]" * 3000 + ")")
    with pytest.raises(ShellError, match="too deeply nested"):
        parse("r.expr(1)" + ".add(1)" * 5000)


def test_lambda_parameter_rules() -> None:
    with pytest.raises(ShellError, match="duplicate argument"):
        parse("r.expr(1).do(lambda x, x: x)")
    with pytest.raises(ShellError, match="cannot be a lambda parameter"):
        parse("r.expr(1).do(lambda r: r)")


def test_receiver_class_and_completion() -> None:
    assert receiver_class("r.table('t')") == "Table"
    assert receiver_class("r.db('d')") == "DB"
    assert receiver_class("r") == "r"
    assert receiver_class("1") is None
    prefix, names = completions("r.table('t').ins")
    assert prefix == "ins" and names == ["insert", "insert_at"]
    assert "table_create" in completions("r.db('d').")[1]
    assert "insert" not in completions("r.db('d').")[1]
    assert completions("r.db_")[1] == ["db_create", "db_drop", "db_list"]
    # An inner receiver: the row of a filter.
    names = completions("r.table('t').filter(r.row['a'].")[1]
    assert "contains" in names and "insert" not in names
    assert completions("r.expr(1) + ") == ("", [])
    # The dot binds tighter than the operator: the receiver is the table.
    assert completions("r.expr(1) + r.table('t').ins")[1] == ["insert", "insert_at"]
    assert "insert" in completions("r.db('d').table('a, (b)').")[1]
    assert "insert" not in completions("r.table('t').get(1)['a'].")[1]
    assert "contains" in completions("r.expr(1).do(lambda d: d.")[1]


async def test_parsed_terms_run_through_the_query_engine(tmp_path) -> None:
    """The JSON goes through reqlite.ql.query.start unchanged."""
    from reqlite.ql.context import QueryContext
    from reqlite.ql.query import Atom, start
    from reqlite.storage import Store

    store = Store(str(tmp_path / "data"))
    store.attach_trio()
    try:
        async def run(text: str) -> Any:
            p = parse(text)
            result = await start(QueryContext(store), p.term, p.optargs_json())
            if isinstance(result, Atom):
                return result.value
            q = QueryContext(store)
            out: list = []
            while (batch := await result.next_batch(q, 100)) is not None:
                out.extend(batch)
            return out

        assert await run("r.expr([1, 2, 3]).map(lambda x: x * 2)") == [2, 4, 6]
        assert await run("r.expr([{'a': 1}, {'a': 5}]).filter(r.row['a'] > 2)") == [{"a": 5}]
        assert await run("r.range(5).fold(0, lambda acc, x: acc + x)") == 10
        assert await run("r.expr([3, 1, 2]).order_by(r.desc(lambda x: x))") == [3, 2, 1]
        assert await run("r.expr({'a': {'b': 2}})['a']['b'] + 1 == 3") is True
        assert await run("r.expr([1, 2, 3, 4])[1:] ") == [2, 3, 4]
        assert await run("r.add(r.args([1, 2]))") == 3
        assert (await run("r.table_create('t')"))["tables_created"] == 1
        assert (await run("r.table('t').insert([{'id': 1, 'n': 1}])"))["inserted"] == 1
        assert (await run("r.table('t').get(1).update({'n': r.row['n'] + 1})"))["replaced"] == 1
        assert await run("r.table('t').get(1)['n']") == 2
        assert await run("r.table('t').count().run(db='test')") == 1
    finally:
        store.detach_trio()
        store.close()


# -- hypothesis: random driver expressions --------------------------------------------------

FIELDS = st.sampled_from(["a", "b", "id", "x y", "é"])
LEAF_METHODS = ["count", "keys", "values", "upcase", "type_of", "is_empty", "distinct", "ungroup", "not_"]
ONE_ARG_METHODS = [
    "eq", "ne", "lt", "gt", "add", "sub", "mul", "div", "mod", "contains", "default", "append",
    "pluck", "without", "merge", "filter", "map", "concat_map", "order_by", "get_field", "nth",
    "limit", "skip", "has_fields", "sum", "avg", "min", "max", "group", "offsets_of", "union",
    "set_union", "and_", "or_", "coerce_to", "split", "update", "replace", "insert", "get",
]
KW_METHODS = ["filter", "order_by", "update", "min", "changes", "between", "slice", "delete", "count", "get_all"]


@st.composite
def literals(draw: Any) -> str:
    kind = draw(st.sampled_from(["int", "float", "str", "const", "bigint"]))
    if kind == "int":
        return repr(draw(st.integers(-1000, 1000)))
    if kind == "bigint":
        return repr(draw(st.integers(-(2**70), 2**70)))
    if kind == "float":
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False, width=64)))
    if kind == "str":
        return repr(draw(st.text(max_size=8)))
    return draw(st.sampled_from(["True", "False", "None"]))


PRIMARY, UNARY, PRODUCT, SUM, BITAND, BITOR, COMPARE, LAMBDA = range(8)
OPS = [
    ("*", PRODUCT), ("/", PRODUCT), ("%", PRODUCT), ("+", SUM), ("-", SUM), ("&", BITAND),
    ("|", BITOR), ("==", COMPARE), ("!=", COMPARE), ("<", COMPARE), ("<=", COMPARE),
    (">", COMPARE), (">=", COMPARE),
]


def paren(text: str, level: int, need: int) -> str:
    """``text`` (of precedence ``level``) usable where ``need`` or tighter is required."""
    return text if level <= need else f"({text})"


@st.composite
def exprs(draw: Any, depth: int = 3, names: tuple[str, ...] = ()) -> tuple[str, int, bool]:
    """(text, precedence level, surely a term) of a random expression in the driver's syntax.

    Methods are only called on terms (a receiver that may be a plain Python value is
    wrapped in r.expr(), which returns a term unchanged): the shell does not offer
    Python's own str/list/dict methods."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        choices = ["lit", "row", "expr", "table", "const"] + (["name"] * 3 if names else [])
        kind = draw(st.sampled_from(choices))
        if kind == "lit":
            text = draw(literals())
            return text, UNARY if text.startswith("-") else PRIMARY, False
        if kind == "row":
            return f"r.row[{draw(FIELDS)!r}]", PRIMARY, True
        if kind == "expr":
            return f"r.expr({draw(literals())})", PRIMARY, True
        if kind == "table":
            return draw(st.sampled_from(["r.table('t')", "r.db('d').table('t')", "r.db('d')"])), PRIMARY, True
        if kind == "const":
            return draw(st.sampled_from(["r.minval", "r.maxval", "r.row", "r.now()", "r.monday"])), PRIMARY, True
        return draw(st.sampled_from(names)), PRIMARY, True
    sub = exprs(depth - 1, names)

    def receiver() -> str:
        text, level, is_term = draw(sub)
        return paren(text, level, PRIMARY) if is_term else f"r.expr({text})"

    kind = draw(st.sampled_from(["binop", "binop", "method", "method", "kwmethod", "bracket", "slice",
                                 "invert", "list", "dict", "lambda_arg", "do", "branch"]))
    if kind == "binop":
        op, level = draw(st.sampled_from(OPS))
        (a, la, ta), (b, lb, tb) = draw(sub), draw(sub)
        # A term on either side makes a term, except Python's own '...' % x and the
        # comparison of two lists (which may give a plain bool).
        is_term = ta or (tb and op != "%")
        if level == COMPARE:  # never chain comparisons (the shell refuses chains on purpose)
            return f"{paren(a, la, COMPARE - 1)} {op} {paren(b, lb, COMPARE - 1)}", COMPARE, is_term
        return f"{paren(a, la, level)} {op} {paren(b, lb, level - 1)}", level, is_term
    if kind in ("method", "kwmethod"):
        recv = receiver()
        if kind == "kwmethod":
            name = draw(st.sampled_from(KW_METHODS))
            arg = draw(sub)[0]
            kw = draw(st.sampled_from(["index", "default", "durability", "squash", "right_bound"]))
            return f"{recv}.{name}({arg}, {kw}={draw(literals())})", PRIMARY, True
        if draw(st.booleans()):
            return f"{recv}.{draw(st.sampled_from(LEAF_METHODS))}()", PRIMARY, True
        arg = draw(sub)[0]
        return f"{recv}.{draw(st.sampled_from(ONE_ARG_METHODS))}({arg})", PRIMARY, True
    if kind == "bracket":
        (recv, lr, tr), idx = draw(sub), draw(sub)[0]
        return f"{paren(recv, lr, PRIMARY)}[{idx}]", PRIMARY, tr
    if kind == "slice":
        recv, lr, tr = draw(sub)
        a = draw(st.sampled_from(["", "0", "1", "-1", "r.row['i']"]))
        b = draw(st.sampled_from(["", "0", "2", "-1", "r.row['j']"]))
        return f"{paren(recv, lr, PRIMARY)}[{a}:{b}]", PRIMARY, tr
    if kind == "invert":
        a, la, ta = draw(sub)
        return f"~{paren(a, la, UNARY)}", UNARY, ta
    if kind == "list":
        items = draw(st.lists(sub, max_size=3))
        return "[" + ", ".join(t for t, _, _ in items) + "]", PRIMARY, False
    if kind == "dict":
        keys = draw(st.lists(FIELDS, max_size=3, unique=True))
        values = [draw(sub)[0] for _ in keys]
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, values)) + "}", PRIMARY, False
    if kind == "lambda_arg":
        params = draw(st.lists(st.sampled_from(["x", "y", "doc"]), min_size=1, max_size=2, unique=True))
        body = draw(exprs(depth - 1, tuple(set(names) | set(params))))[0]
        method = draw(st.sampled_from(["map", "filter", "concat_map", "order_by", "do", "reduce", "merge"]))
        return f"{receiver()}.{method}(lambda {', '.join(params)}: {body})", PRIMARY, True
    if kind == "do":
        a, b = draw(sub)[0], draw(sub)[0]
        return f"r.do({a}, {b})", PRIMARY, True
    a, b, c = draw(sub)[0], draw(sub)[0], draw(sub)[0]
    return f"r.branch({a}, {b}, {c})", PRIMARY, True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs())
def test_random_expressions_match_the_driver(generated: tuple[str, int, bool]) -> None:
    text = generated[0]
    status, expected = driver_outcome(text)
    if status == "error":
        with pytest.raises(ShellError):
            parse(text)
        return
    assert canonical(parse(text).term) == canonical(expected), text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="r.()[]{}'\"+-*/<>=!&|~:,lambda xyz0123 \n", max_size=40))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse(text)
    except ShellError as exc:
        assert exc.span is not None and exc.text == text
        str(exc)  # renders with a caret
