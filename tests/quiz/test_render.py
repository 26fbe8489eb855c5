"""`rustsync.quiz.render`: a quiz as HTML whose answers open on a click, and as plain text.

Every text of a quiz is escaped (prompts, options, explanations, titles, Rust sources),
its `backquoted` parts shown as code; each verdict and explanation sits inside a closed
`<details>` whose `<summary>` shows the option alone, so nothing tells the answer before
a click; the text form lists the questions first and the answers after them.
"""

from html.parser import HTMLParser

from rustsync.quiz.questions import Mistake, Option, Question, Quiz
from rustsync.quiz.render import render_html, render_text

HOSTILE = '<script>alert("x")</script> & <b>'

QUIZ = Quiz("03", f"Quiz `Mutex<T>` {HOSTILE}", (
    Question("rust", f"Does it compile? {HOSTILE}", options=(
        Option("error[E0382]: use of moved value: `counter`", False, f"No: a `Vec<T>` would {HOSTILE}"),
        Option("It prints `Result: 10`", True, "Yes: each thread has its own `Arc<Mutex<i32>>`."),
        Option(f"It prints {HOSTILE}", False, "No: nothing prints markup."),
    ), program="quiz_03_x", source='fn main() {\n    println!("{}", 1 < 2 && true);\n}\n'),
    Question("short", "How many interleavings?", answer="`70`", why=f"C(8, 4) {HOSTILE}",
             mistakes=(Mistake("16", "That is 2 to the 4th."), Mistake("<40320>", "That is 8!."))),
))


class Page(HTMLParser):
    """The page's structure: every tag, each `<details>` with its summary's text and the text after it."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.details, self.outside = [], [], []
        self._in_details = self._in_summary = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "details":
            self._in_details = True
            self.details.append({"summary": "", "body": "", "attrs": dict(attrs)})
        elif tag == "summary":
            self._in_summary = True

    def handle_endtag(self, tag):
        if tag == "details":
            self._in_details = False
        elif tag == "summary":
            self._in_summary = False

    def handle_data(self, data):
        if self._in_summary:
            self.details[-1]["summary"] += data
        elif self._in_details:
            self.details[-1]["body"] += data
        else:
            self.outside.append(data)


def test_every_text_is_escaped_and_no_markup_of_its_own_gets_through():
    page = render_html(QUIZ)
    assert "<script" not in page and "<b>" not in page
    parsed = Page(page)
    assert {tag for tag, _ in parsed.tags} <= {"div", "h3", "p", "em", "strong", "code", "pre", "details", "summary"}
    text = "".join(parsed.outside) + "".join(d["summary"] + d["body"] for d in parsed.details)
    assert text.count(HOSTILE) == 5, "title, prompt, option text, option why and the short answer's why, shown as text"
    assert "<40320>" in text and 'println!("{}", 1 < 2 && true);' in text


def test_backquoted_text_is_code_and_a_rust_source_is_preformatted():
    page = render_html(QUIZ)
    assert "<h3>Quiz <code>Mutex&lt;T&gt;</code> " in page
    assert "<summary>A. error[E0382]: use of moved value: <code>counter</code></summary>" in page
    assert ('<pre style="margin-left: 1.4em"><code>fn main() {\n'
            '    println!(&quot;{}&quot;, 1 &lt; 2 &amp;&amp; true);\n}</code></pre>') in page


def test_no_answer_shows_before_a_click():
    parsed = Page(render_html(QUIZ))
    assert [d["summary"] for d in parsed.details] == [
        "A. error[E0382]: use of moved value: counter", "B. It prints Result: 10", f"C. It prints {HOSTILE}",
        "Show the answer"]
    assert all("open" not in d["attrs"] for d in parsed.details), "every answer starts closed"
    outside = "".join(parsed.outside)
    for said in ("Right.", "Not this one.", "each thread has its own", "That is 8!", "70"):
        assert said not in outside, f"{said!r} is shown before a click"


def test_a_click_on_an_option_shows_its_own_verdict_and_explanation():
    a, b, c, short = Page(render_html(QUIZ)).details
    assert a["body"] == f"Not this one. No: a Vec<T> would {HOSTILE}"
    assert b["body"] == "Right. Yes: each thread has its own Arc<Mutex<i32>>."
    assert c["body"] == "Not this one. No: nothing prints markup."
    assert short["body"] == (f"Right. 70. C(8, 4) {HOSTILE}If you answered 16: That is 2 to the 4th."
                             "If you answered <40320>: That is 8!.")


def test_the_page_says_which_lesson_and_how_to_use_it():
    page = render_html(QUIZ)
    assert page.startswith('<div class="rustsync-quiz" data-lesson="03"><h3>')
    assert "Not graded. Decide on your answer first, then click it" in page
    assert page.count('class="rustsync-quiz-question"') == 2


def test_the_text_form_lists_the_questions_then_the_answers_with_their_verdicts():
    text = render_text(QUIZ)
    questions, answers = text.split("\nAnswers and explanations\n")
    assert questions.startswith(f"Quiz `Mutex<T>` {HOSTILE}\n\nNot graded.")
    assert "   B. It prints `Result: 10`" in questions
    assert '       fn main() {\n           println!("{}", 1 < 2 && true);\n       }' in questions
    assert "Right." not in questions and "Not this one." not in questions
    assert answers.splitlines()[1:6] == [
        f"1A. Not this one. No: a `Vec<T>` would {HOSTILE}",
        "1B. Right. Yes: each thread has its own `Arc<Mutex<i32>>`.",
        "1C. Not this one. No: nothing prints markup.",
        "",
        f"2. `70`. C(8, 4) {HOSTILE}",
    ]
    assert text.endswith("   If you answered <40320>: That is 8!.\n")
