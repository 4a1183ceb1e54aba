from onesearch.errors import DataError


def test_message_names_file_row_and_problem():
    assert str(DataError("column 'price': 'x' is not a number", path="items.csv", row=3)) == (
        "items.csv: row 3: column 'price': 'x' is not a number"
    )
    assert str(DataError("unknown data set 'foo'")) == "unknown data set 'foo'"
