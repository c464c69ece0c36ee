"""CSV downloads: the file name in the header holds only safe characters, whatever a view passes."""

from linktrack.common.csv_export import csv_download


def test_a_file_name_cannot_add_a_parameter_or_break_the_header():
    response = csv_download(["a"], [], filename='report-x";filename="evil.bat\r\nSet-Cookie: a=b.csv')
    assert response["Content-Disposition"] == 'attachment; filename="report-x-filename-evil.bat-Set-Cookie-a-b.csv"'


def test_a_plain_file_name_is_kept():
    response = csv_download(["a"], [], filename="campaign-12-not_sent-unsubscribed.csv")
    assert response["Content-Disposition"] == 'attachment; filename="campaign-12-not_sent-unsubscribed.csv"'
