"""Settings from the environment: defaults when unset or empty, a sentence naming the
variable when a value cannot be read."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from playground.env import env, env_bool, env_float, env_int, env_list


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_or_empty_variable_takes_the_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("PLAYGROUND_TEST_VALUE", raising=False)
    else:
        monkeypatch.setenv("PLAYGROUND_TEST_VALUE", value)
    assert env("PLAYGROUND_TEST_VALUE", "fallback") == "fallback"
    assert env_bool("PLAYGROUND_TEST_VALUE", True) is True
    assert env_int("PLAYGROUND_TEST_VALUE", 7) == 7
    assert env_float("PLAYGROUND_TEST_VALUE", 1.5) == 1.5
    assert env_list("PLAYGROUND_TEST_VALUE", "a,b") == ["a", "b"]


@pytest.mark.parametrize("value, expected", [("1", True), ("Yes", True), (" on ", True), ("TRUE", True),
                                             ("0", False), ("no", False), ("Off", False), ("false", False)])
def test_a_flag_reads_the_usual_words(monkeypatch, value, expected):
    monkeypatch.setenv("PLAYGROUND_TEST_VALUE", value)
    assert env_bool("PLAYGROUND_TEST_VALUE", not expected) is expected


def test_numbers_and_lists_are_read(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TEST_VALUE", " 42 ")
    assert env_int("PLAYGROUND_TEST_VALUE", 0) == 42
    assert env_float("PLAYGROUND_TEST_VALUE", 0.0) == 42.0
    monkeypatch.setenv("PLAYGROUND_TEST_VALUE", " a.example , ,b.example,")
    assert env_list("PLAYGROUND_TEST_VALUE") == ["a.example", "b.example"]


@pytest.mark.parametrize(
    "read, value, sentence",
    [
        (env_int, "3.5", "PLAYGROUND_TEST_VALUE must be a whole number, not '3.5'."),
        (env_float, "soon", "PLAYGROUND_TEST_VALUE must be a number, not 'soon'."),
        (env_bool, "maybe", "PLAYGROUND_TEST_VALUE must be on or off (1 or 0, true or false, yes or no), not 'maybe'."),
    ],
)
def test_a_value_that_cannot_be_read_is_named_in_a_sentence(monkeypatch, read, value, sentence):
    monkeypatch.setenv("PLAYGROUND_TEST_VALUE", value)
    with pytest.raises(ImproperlyConfigured) as caught:
        read("PLAYGROUND_TEST_VALUE", 1)
    assert str(caught.value) == sentence
