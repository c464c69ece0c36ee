"""DLT template parsing and matching: strict, with the position of every error."""

import pytest

from campaigns.dlt.parsing import TemplateError, parse_template, slot_value_problem


def test_var_and_every_typed_tag_are_slots():
    parsed = parse_template("{#var#}{#numeric#}{#alphanumeric#}{#url#}{#urlott#}{#cbn#}{#email#}.")
    assert parsed.slots == ("var", "numeric", "alphanumeric", "url", "urlott", "cbn", "email")
    assert parsed.fixed == ("", "", "", "", "", "", "", ".")


@pytest.mark.parametrize(
    ("body", "shown", "position"),
    [
        ("Hi {#var1#}", "{#var1#}", 4),
        ("Hi {#VAR#}", "{#VAR#}", 4),
        ("Hi {#Numeric#}", "{#Numeric#}", 4),
        ("Hi {# var #}", "{# var #}", 4),
        ("Hi {#var}", "{#var}", 4),
        ("Hi {var#}", "{var#}", 4),
        ("Hi {var}", "{var}", 4),
        ("Hi ##var## there", "##var##", 4),
        ("Hi #var# there", "#var#", 4),
        ("{#var#} and {#var2#}", "{#var2#}", 13),
        ("नमस्ते {#वार#}", "{#वार#}", 8),
    ],
)
def test_lookalike_placeholder_is_an_error_naming_it_and_its_position(body, shown, position):
    with pytest.raises(TemplateError) as error:
        parse_template(body)
    assert error.value.position == position
    assert str(error.value).startswith(f"'{shown}' looks like a variable but is not one: write {{#var#}} exactly")
    assert str(error.value).endswith(f"(at character {position})")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Offer {x", "'{' is opened and never closed (at character 7)"),
        ("{ {#var#} {", "'{' is opened and never closed (at character 1)"),
        ("Offer} {#var#}", "'}' closes a brace that was never opened (at character 6)"),
        ("{#var#}}", "'}' closes a brace that was never opened (at character 8)"),
        ("   ", "The template is empty"),
    ],
)
def test_unbalanced_braces_and_empty_bodies_are_errors(body, message):
    with pytest.raises(TemplateError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_template(body)


def test_braces_that_pair_up_around_a_variable_are_fixed_text():
    assert parse_template("{ Rs {#var#} }").fixed == ("{ Rs ", " }")


def test_matching_treats_fixed_text_exactly_and_escapes_metacharacters():
    parsed = parse_template("Price (Rs.) {#var#}* [a-z]+ $")
    assert parsed.matches("Price (Rs.) 99* [a-z]+ $")
    assert not parsed.matches("Price (Rs)X 99* [a-z]+ $")
    assert not parsed.matches("Price (Rs.) 99* aaa $")
    assert not parsed.matches("Price  (Rs.) 99* [a-z]+ $")


def test_matching_limits_each_variable_and_checks_typed_slots(settings):
    settings.DLT_VARIABLE_MAX_LENGTH = 30
    parsed = parse_template("A {#var#} B {#numeric#} C {#alphanumeric#}")
    assert parsed.matches("A " + "x" * 30 + " B 123 C " + "Z9" * 20)
    assert not parsed.matches("A " + "x" * 31 + " B 123 C Z")
    assert not parsed.matches("A x B 12a C Z")
    assert not parsed.matches("A x B 1 C " + "Z" * 41)
    assert parsed.matches("A  B  C ")  # each slot may be empty
    assert parse_template("{#var#}").matches("line one\nline two")


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("numeric", "12a", "a {#numeric#} variable takes digits only"),
        ("numeric", "0042", None),
        ("alphanumeric", "AB-12", "a {#alphanumeric#} variable takes letters A-Z and digits only"),
        ("alphanumeric", "A" * 41, "it is 41 characters and a {#alphanumeric#} variable takes at most 40"),
        ("cbn", "+91 1800-123-456", None),
        ("cbn", "call me", "a {#cbn#} variable takes a phone number (digits, +, - and spaces)"),
        ("email", "a@b.in", None),
        ("email", "a@b", "a {#email#} variable takes one email address"),
        ("url", "s.cplry.com/7383936D89", None),
        ("url", "two words", "a {#url#} variable takes one web link"),
        ("var", "अ" * 30, None),
        ("var", "अ" * 31, "it is 31 characters and a {#var#} variable takes at most 30"),
    ],
)
def test_slot_values_are_checked_against_their_kind(kind, value, problem, settings):
    settings.DLT_VARIABLE_MAX_LENGTH = 30
    assert slot_value_problem(kind, value) == problem


def test_render_refuses_the_wrong_number_of_values():
    with pytest.raises(ValueError, match="the template has 2 slots, 1 values were given"):
        parse_template("{#var#} {#var#}").render(["x"])
