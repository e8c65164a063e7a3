from rehue.words import counted, listed


def test_counted_says_one_thing_in_the_singular_and_more_in_the_plural():
    assert counted(1, "frame") == "1 frame"
    assert [counted(n, "scene") for n in (0, 2)] == ["0 scenes", "2 scenes"]
    assert counted(12000, "frame") == "12,000 frames"
    assert counted(3, "other file or folder", "other files or folders") == "3 other files or folders"


def test_listed_joins_the_last_with_and():
    assert [listed(items) for items in (["a"], ["a", "b"], ["a", "b", "c"])] == ["a", "a and b", "a, b and c"]
