"""Label and field selectors: matching and the apiserver's error text
(apimachinery pkg/labels/selector.go, pkg/fields/selector.go)."""
import pytest

from labkit.sandbox.apis._selectors import (SelectorError, parse_field_selector, parse_label_selector,
                                            selector_for_service, selector_from_match, selector_from_set)

WEB = {"app": "web", "tier": "fe", "version": "3"}
DB = {"app": "db"}
NONE: dict = {}


@pytest.mark.parametrize("text,web,db,none", [
    ("", True, True, True),
    ("app=web", True, False, False),
    ("app==web", True, False, False),
    ("app!=web", False, True, True),  # != matches objects without the label
    ("app in (web,db)", True, True, False),
    ("app in (web, db)", True, True, False),
    ("app notin (web)", False, True, True),
    ("app", True, True, False),
    ("!tier", False, True, True),
    ("app=web,tier=fe", True, False, False),
    ("app,!tier", False, True, False),
    ("  app = web ,  tier  ", True, False, False),
    ("version>2", True, False, False),
    ("version<3", False, False, False),
    ("app=", False, False, False),  # empty value: label must exist and be ""
    ("tier notin ()", True, True, True),
    ("in", False, False, False),  # "in" is a key in key position
])
def test_label_selector_matching(text, web, db, none):
    sel = parse_label_selector(text)
    assert (sel.matches(WEB), sel.matches(DB), sel.matches(NONE)) == (web, db, none)


def test_empty_value_set_members_and_canonical_string():
    sel = parse_label_selector("x in (foo,,baz),y,z notin ()")
    assert sel.matches({"x": "", "y": "1"})
    assert sel.matches({"x": "foo", "y": "1", "z": "a"})
    assert not sel.matches({"x": "bar", "y": "1"})
    assert str(sel) == "x in (,baz,foo),y,z notin ()"
    assert str(parse_label_selector("tier in (b,a),!old,app==web")) == "app==web,!old,tier in (a,b)"


QNAME = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
         "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
         "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


@pytest.mark.parametrize("text,message", [
    ("type=app,versionv1.0.1)",  # as printed by the apiserver for this kubectl get -l
     "unable to parse requirement: found ')', expected: in, notin, =, ==, !=, gt, lt"),
    ("env IN (a)", "unable to parse requirement: found 'IN', expected: in, notin, =, ==, !=, gt, lt"),
    ("==x", "found '==', expected: !, identifier, or 'end of string'"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("app=web tier=fe", "found 'tier', expected: ',' or 'end of string'"),
    ("app in web", "unable to parse requirement: found 'web' expected: '('"),
    ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
    ("app in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("app=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!app=web", "found '=', expected: ',' or 'end of string'"),
    ("a/b/c ?=? def",
     "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name " + QNAME
     + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
    ("-app=web", "unable to parse requirement: <nil>: Invalid value: \"-app\": name part " + QNAME),
    ("app=we$b",
     "unable to parse requirement: values[0][app]: Invalid value: \"we$b\": a valid label must "
     "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
     "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
     "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
    ("version>a",
     "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
     "the value must be an integer"),
])
def test_label_selector_errors_carry_the_apiserver_text(text, message):
    with pytest.raises(SelectorError) as exc:
        parse_label_selector(text)
    assert str(exc.value) == message


def test_match_labels_and_expressions():
    sel = selector_from_match({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "version", "operator": "Exists"},
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
        ]})
    assert sel.matches(WEB)
    assert not sel.matches({**WEB, "legacy": "1"})
    assert not sel.matches({**WEB, "track": "canary"})
    assert not sel.matches({"app": "web", "tier": "fe"})


def test_nil_empty_and_service_selectors():
    assert not selector_from_match(None).matches(WEB)
    assert selector_from_match({}).matches(WEB) and selector_from_match({}).empty
    # A plain label map, such as a Service's spec.selector
    assert selector_from_match({"app": "web"}).matches(WEB)
    assert not selector_from_match({"app": "web"}).matches(DB)
    assert selector_from_set({}).matches(DB)
    # A Service without a selector selects no pods.
    assert not selector_for_service({"spec": {}}).matches(WEB)
    assert not selector_for_service({"spec": {"selector": {}}}).matches(WEB)
    assert selector_for_service({"spec": {"selector": {"app": "web"}}}).matches(WEB)


@pytest.mark.parametrize("spec,message", [
    ({"matchExpressions": [{"key": "a", "operator": "Foo"}]},
     '"Foo" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"),
    ({"matchLabels": {"bad key": "x"}},
     "key: Invalid value: \"bad key\": name part " + QNAME),
])
def test_invalid_label_selector_specs(spec, message):
    with pytest.raises(SelectorError) as exc:
        selector_from_match(spec)
    assert str(exc.value) == message


POD = {"kind": "Pod", "metadata": {"name": "web-1", "namespace": "default"},
       "spec": {"nodeName": "node-2", "restartPolicy": "Always"},
       "status": {"phase": "Running", "podIP": "10.10.100.37", "podIPs": [{"ip": "10.10.100.37"}]}}
PENDING = {"kind": "Pod", "metadata": {"name": "web-2", "namespace": "test"},
           "spec": {}, "status": {"phase": "Pending"}}
EVENT = {"kind": "Event", "metadata": {"name": "web-1.17a", "namespace": "default"},
         "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "uid": "u-1"},
         "reason": "Scheduled", "type": "Normal", "source": {"component": "default-scheduler"}}


@pytest.mark.parametrize("text,pod,pending", [
    ("", True, True),
    ("metadata.name=web-1", True, False),
    ("metadata.name==web-1", True, False),
    ("metadata.name!=web-1", False, True),
    ("metadata.namespace=test", False, True),
    ("spec.nodeName=", False, True),  # unscheduled pods: a missing field reads as ""
    ("spec.nodeName=node-2,status.phase=Running", True, False),
    ("status.phase!=Running,status.phase!=Succeeded", False, True),
    ("spec.hostNetwork=false", True, True),
    ("spec.host=node-2", True, False),
    ("status.podIPs=10.10.100.37", True, False),
])
def test_field_selector_matching_pods(text, pod, pending):
    sel = parse_field_selector(text)
    assert (sel.matches(POD), sel.matches(PENDING)) == (pod, pending)


def test_field_selector_on_events_as_kubectl_describe_sends_it():
    text = ("involvedObject.name=web-1,involvedObject.namespace=default,"
            "involvedObject.uid=u-1,involvedObject.kind=Pod")
    sel = parse_field_selector(text)
    assert sel.matches(EVENT)
    assert not sel.matches({**EVENT, "involvedObject": {**EVENT["involvedObject"], "uid": "u-2"}})
    assert parse_field_selector("source=default-scheduler,type=Normal").matches(EVENT)
    sel.validate("Event")


def test_field_selector_escapes_and_canonical_form():
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d")
    assert sel.matches({"metadata": {"name": "a,b=c\\d"}})
    assert str(sel) == r"metadata.name=a\,b\=c\\d"
    assert str(parse_field_selector("status.phase=Running,metadata.name=x")) == \
        "metadata.name=x,status.phase=Running"


@pytest.mark.parametrize("text,message", [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
    ("metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    (r"metadata.name=a\b", r"invalid field selector: invalid escape sequence: \b"),
    ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_field_selector_parse_errors(text, message):
    with pytest.raises(SelectorError) as exc:
        parse_field_selector(text)
    assert str(exc.value) == message


@pytest.mark.parametrize("kind,text,message", [
    ("Pod", "spec.containers=x", "field label not supported: spec.containers"),
    ("Deployment", "spec.replicas=1",
     '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
])
def test_field_labels_a_kind_does_not_support(kind, text, message):
    with pytest.raises(SelectorError) as exc:
        parse_field_selector(text).validate(kind)
    assert str(exc.value) == message
    parse_field_selector("metadata.name=x").validate(kind)
