"""Account names and passwords. Passwords that pass the length and character-class rules but are a common password dressed
up (issue found when the product was tried: Qwerty@123 and P@ssw0rd123 were accepted), and
passwords built from the account name with look-alikes."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from nqihub.accounts import services
from nqihub.core.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db


def _codes(password, user=None):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


@pytest.mark.parametrize("password", ["Qwerty@123", "P@ssw0rd123", "Woaini1314!", "Iloveyou!2026", "Admin@2024"])
def test_a_common_password_dressed_up_is_refused(password):
    assert "password_common_pattern" in _codes(password)


@pytest.mark.parametrize("password", ["Demo@2026nqi", "Str0ng-Passw0rd", "Tiger#2026xyz", "Zhangsan@2024"])
def test_passwords_built_on_no_common_word_pass(password):
    assert "password_common_pattern" not in _codes(password)


def test_the_account_name_spelled_with_look_alikes_is_refused():
    class Named:
        username = "zhangwei"

    assert "password_has_username" in _codes("Zh@ngW3i-2026", Named())


def test_sign_up_refuses_it_with_a_message_in_the_users_language():
    with pytest.raises(InvalidInput) as refused:
        services.account_register(username="newcomer", password="P@ssw0rd123", display_name="新人")
    assert "常见密码" in str(refused.value.errors or refused.value.message)


def test_a_full_width_look_alike_of_a_taken_name_is_the_same_name(world):
    with pytest.raises(Conflict) as refused:
        services.account_register(username="ＥＮＴ_ｍａｎａｇｅｒ", password="Tiger#2026xyz", display_name="冒充者")
    assert refused.value.code == "username_taken"
    account = services.account_register(username="ｎｅｗ_ｐｅｒｓｏｎ", password="Tiger#2026xyz", display_name="新人")
    assert account.username == "new_person"
