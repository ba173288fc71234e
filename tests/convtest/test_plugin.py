"""The pytest plugin: ``*.test.yaml`` files collected and run as tests, in a pytest of their own."""

from __future__ import annotations

import textwrap

import pytest

import botkit.convtest.plugin

pytest_plugins = ["pytester"]

BOT = """
    from botkit import Bot, Button, Buttons, Context, Settings


    def make_bot() -> Bot:
        bot = Bot(Settings(store="memory://"))

        @bot.on_text("^hi$")
        async def hello(ctx: Context) -> None:
            await ctx.reply(Buttons("Tea or coffee?", [Button("Tea", "tea"),
                                                      Button("Coffee", "coffee")]))

        @bot.on_button()
        async def picked(ctx: Context) -> None:
            ctx.conversation.data["drink"] = ctx.match["payload"]
            await ctx.reply(f"One {ctx.match['payload']} coming up.")

        return bot
    """

PASSING = """
    bot: drinks.py:make_bot
    cases:
      - name: tea by tapping
        channels: [sms, whatsapp]
        turns:
          - user: hi
            bot: [{text: Tea or coffee?, buttons: [Tea, Coffee]}]
          - tap: Tea
            bot: One tea coming up.
            expect: {data: {drink: tea}}
      - name: coffee by number
        channel: sms
        turns:
          - user: hi
          - user: 2
            bot: One coffee coming up.
    """

FAILING = """
    bot: drinks.py:make_bot
    cases:
      - name: wrong drink
        channel: sms
        turns:
          - user: hi
          - tap: Coffee
            bot: One tea coming up.
    """


@pytest.fixture
def project(pytester: pytest.Pytester, request: pytest.FixtureRequest) -> pytest.Pytester:
    """A project like botkit's own: asyncio_mode=auto, warnings are errors, the bot beside."""
    # pytest inside pytest finds botkit imported already and warns that it cannot rewrite
    # its asserts; a project's own pytest run imports botkit afresh.
    pytester.makeini(textwrap.dedent("""
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        filterwarnings =
            error
            ignore::pytest.PytestAssertRewriteWarning
        """))
    pytester.path.joinpath("drinks.py").write_text(textwrap.dedent(BOT), encoding="utf-8")
    return pytester


def run(pytester: pytest.Pytester, request: pytest.FixtureRequest,
        *args: str) -> pytest.RunResult:
    # Once botkit is installed with its entry point, pytest loads the plugin by itself;
    # naming it again would register it twice.
    installed = request.config.pluginmanager.is_registered(botkit.convtest.plugin)
    plugin = [] if installed else ["-p", "botkit.convtest.plugin"]
    return pytester.runpytest(*plugin, *args)


def write(pytester: pytest.Pytester, name: str, text: str) -> None:
    pytester.path.joinpath(name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_each_case_on_each_channel_is_a_test_item(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "drinks.test.yaml", PASSING)
    collected = run(project, request, "--collect-only", "-q")
    collected.stdout.fnmatch_lines([
        "drinks.test.yaml::tea by tapping[[]sms[]]",
        "drinks.test.yaml::tea by tapping[[]whatsapp[]]",
        "drinks.test.yaml::coffee by number[[]sms[]]",
    ])
    result = run(project, request, "-v")
    result.assert_outcomes(passed=3)


def test_a_failing_case_shows_its_transcript(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "drinks.test.yaml", FAILING)
    result = run(project, request)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*conversation 'wrong drink' on sms went differently:",
        "> user: hi",
        "< bot: Tea or coffee? [[]Tea | Coffee[]]",
        "> tap: Coffee",
        "< bot: One coffee coming up.",
        "! turn 2 (line 8): expected text 'One tea coming up.' but the bot said "
        "'One coffee coming up.'",
        "FAILED drinks.test.yaml::wrong drink[[]sms[]]*",
    ])


def test_a_malformed_file_is_a_collection_error_at_its_position(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "drinks.test.yaml", """
        cases:
          - name: tea
            channel: sms
            turns:
              - user: hi
                bot: {txt: Tea or coffee?}
        """)
    result = run(project, request)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "drinks.test.yaml:7:15: unknown key 'txt': did you mean 'text'? "
        "(allowed here: text, match, buttons, kind)",
    ])


def test_a_bot_that_cannot_be_loaded_is_a_collection_error(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "drinks.test.yaml", PASSING.replace("make_bot", "build"))
    result = run(project, request)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot load the bot 'drinks.py:build': *drinks.py has no "
                                 "attribute 'build'*"])


def test_yaml_files_that_are_not_conversation_tests_are_left_alone(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "drinks.yaml", "flow: drinks\n")
    write(project, "drinks.test.yaml", PASSING)
    result = run(project, request)
    result.assert_outcomes(passed=3)


def test_a_flow_that_does_not_load_is_a_collection_error_at_its_position(
    project: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    write(project, "greet.yaml", """
        flow: greet
        start: hello
        states:
          hello:
            say: Hi
            goto: hello
        """)
    write(project, "greet.test.yaml", "cases: [{name: a, channel: sms, turns: [{user: hi}]}]")
    result = run(project, request)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["greet.yaml:7:5: unknown key 'goto'*"])
