"""The choices' and masking table's <option>s built in Python (records_extras: field_options,
object_options, named_options, rule_options): the same markup the template loops gave, every
value escaped, the chosen one selected."""

from django.template import Context, Template

FIELDS = [{"name": "Name", "label": "Account <Name>"}, {"name": 'x"y', "label": "Q & A"}]


def _render(text, **context):
    return Template("{% load records_extras %}" + text).render(Context(context))


def test_field_options_escape_and_select_the_chosen_field():
    html = _render("{% field_options fields chosen %}", fields=FIELDS, chosen='x"y')
    assert html == (
        '<option value="Name">Account &lt;Name&gt; · Name</option>'
        '<option value="x&quot;y" selected>Q &amp; A · x&quot;y</option>'
    )


def test_a_row_without_a_choice_selects_nothing():
    assert "selected" not in _render("{% field_options fields row.field %}", fields=FIELDS, row=None)
    assert _render("{% field_options fields 'Name' %}", fields=None) == ""


def test_object_options_note_the_first_object():
    objects = [("Accounts", "Accounts"), ("Contacts", "<Contacts>")]
    html = _render('{% object_options objects "Contacts" " (the top record)" %}', objects=objects)
    assert html == (
        '<option value="Accounts">Accounts (the top record)</option>'
        '<option value="Contacts" selected>&lt;Contacts&gt;</option>'
    )


def test_rule_options_name_keep_or_leave_it_out():
    rules = ["keep", "fake_name", "hash"]
    shown = _render('{% rule_options rules "hash" "keep (not masked)" %}', rules=rules)
    assert shown == (
        '<option value="keep">keep (not masked)</option><option value="fake_name">fake_name</option>'
        '<option value="hash" selected>hash</option>'
    )
    assert "keep" not in _render("{% rule_options rules None %}", rules=rules)


def test_named_options_show_label_and_name():
    assert _render("{% named_options pairs %}", pairs=[("Phone", "Phone <work>")]) == (
        '<option value="Phone">Phone &lt;work&gt; (Phone)</option>'
    )
