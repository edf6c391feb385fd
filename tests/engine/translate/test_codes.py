"""Language codes for NLLB-200: the tables against their sources, and the mapping rules as parametrized tables.

Expected NLLB codes are written by hand from the NLLB-200 language list (FLORES-200 codes) and ISO 639-3.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xner.engine.translate.codes import (
    DEFAULT_SCRIPT,
    ISO639_1_TO_3,
    LANGUAGE_NAMES,
    MACRO_TO_NLLB,
    MASAKHANER2_LANGUAGES,
    NLLB_CODES,
    WIKI_TO_ISO639_3,
    WIKIANN_LANGUAGES,
    LanguageNotCoveredError,
    from_nllb,
    nllb_coverage,
    to_iso639_3,
    to_nllb,
)
from xner.errors import XnerError

HINT = "xner translate --translations FILE"
HINT_TEXT = "translate it another way and give the file (xner translate --translations FILE)"


# --- the tables ---------------------------------------------------------------------------------------------------


def test_nllb_codes_are_transformers_fairseq_language_codes() -> None:
    tokenization_nllb = pytest.importorskip("transformers.models.nllb.tokenization_nllb")
    assert list(NLLB_CODES) == list(tokenization_nllb.FAIRSEQ_LANGUAGE_CODES)
    assert len(NLLB_CODES) == len(set(NLLB_CODES)) == 202


def test_codes_module_does_not_import_transformers() -> None:
    probe = "import sys, xner.engine.translate.codes; print('transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_macrolanguage_targets_are_nllb_codes() -> None:
    assert set(MACRO_TO_NLLB.values()) <= set(NLLB_CODES)
    for required in "swa msa fas ara aze mon lav nep ori orm mlg que uzb yid sqi zho pus kur nor grn kon".split():
        assert required in MACRO_TO_NLLB


def test_default_script_names_exactly_the_multi_script_languages() -> None:
    languages = [code[:3] for code in NLLB_CODES]
    multi_script = {lang for lang in languages if languages.count(lang) > 1}
    assert multi_script == {"ace", "bjn", "kas", "knc", "taq", "zho"}
    assert set(DEFAULT_SCRIPT) == multi_script
    assert {f"{lang}_{script}" for lang, script in DEFAULT_SCRIPT.items()} <= set(NLLB_CODES)


def test_macrolanguages_that_nllb_names_itself_agree_with_the_default_script() -> None:
    named = {macro: nllb for macro, nllb in MACRO_TO_NLLB.items() if any(c.startswith(macro + "_") for c in NLLB_CODES)}
    assert named  # the check below runs on something
    for macro, nllb in named.items():
        assert nllb == f"{macro}_{DEFAULT_SCRIPT.get(macro, nllb[4:])}", macro


def test_iso639_1_table() -> None:
    assert all(len(one) == 2 and len(three) == 3 for one, three in ISO639_1_TO_3.items())
    expected = {"sw": "swa", "ar": "ara", "fa": "fas", "ms": "msa", "zh": "zho", "yo": "yor", "ha": "hau"}
    expected |= {"no": "nor", "nb": "nob", "nn": "nno", "sh": "hbs", "rw": "kin", "tw": "twi"}
    assert {code: ISO639_1_TO_3[code] for code in expected} == expected
    assert {code for code in WIKIANN_LANGUAGES if len(code) == 2} <= set(ISO639_1_TO_3)


def test_iso639_1_table_against_the_iso_codes_package() -> None:
    """Every two-letter code of the Debian/pkg-isocodes ISO 639-3 table (when installed) is listed, as ISO maps it."""
    path = Path("/usr/share/iso-codes/json/iso_639-3.json")
    if not path.exists():
        pytest.skip(f"{path} is missing (the iso-codes package)")
    official = {e["alpha_2"]: e["alpha_3"] for e in json.loads(path.read_text())["639-3"] if "alpha_2" in e}
    assert {one: ISO639_1_TO_3[one] for one in official} == official
    assert set(ISO639_1_TO_3) - set(official) == {"bh", "in", "iw", "ji", "mo"}


def test_iso639_1_coverage_by_nllb() -> None:
    assert sum(nllb is not None for nllb in nllb_coverage(ISO639_1_TO_3).values()) == 142


def test_wikiann_languages() -> None:
    assert len(WIKIANN_LANGUAGES) == len(set(WIKIANN_LANGUAGES)) == 176
    assert set(WIKI_TO_ISO639_3) <= set(WIKIANN_LANGUAGES)
    assert {code: to_iso639_3(code) for code in WIKIANN_LANGUAGES if "-" in code} == {
        "bat-smg": "sgs", "be-x-old": "bel", "cbk-zam": "cbk", "fiu-vro": "vro", "map-bms": "jav",
        "zh-classical": "lzh", "zh-min-nan": "nan", "zh-yue": "yue",
    }  # fmt: skip


def test_masakhaner2_languages() -> None:
    assert len(MASAKHANER2_LANGUAGES) == 20
    assert all(to_iso639_3(code) == code for code in MASAKHANER2_LANGUAGES)


# --- WikiANN and MasakhaNER 2.0 against NLLB ----------------------------------------------------------------------

WIKIANN_NOT_IN_NLLB = """
    als an ang arc bar bat-smg br cbk-zam cdo ce co csb cv diq dv eml ext fiu-vro frr fy gan hak hsb ia io jbo ksh la
    mhr mwl mzn nap nds nov os pdc pms pnb rm sah sco vep vls vo wa wuu xmf zea zh-classical zh-min-nan
""".split()


def test_wikiann_coverage_by_nllb() -> None:
    coverage = nllb_coverage(WIKIANN_LANGUAGES)  # raises on any unknown code
    assert set(coverage.values()) - {None} <= set(NLLB_CODES)
    assert sorted(code for code, nllb in coverage.items() if nllb is None) == sorted(WIKIANN_NOT_IN_NLLB)
    assert sum(nllb is not None for nllb in coverage.values()) == 126


@pytest.mark.parametrize("code", WIKIANN_NOT_IN_NLLB)
def test_wikiann_language_outside_nllb_is_named_in_the_error(code: str) -> None:
    with pytest.raises(LanguageNotCoveredError, match=HINT) as caught:
        to_nllb(code)
    message = str(caught.value)
    assert message.startswith(f"{code} (") and "is not one of NLLB-200's languages" in message
    assert LANGUAGE_NAMES[caught.value.iso639_3] in message


MASAKHANER2_NLLB = {
    "bam": "bam_Latn", "ewe": "ewe_Latn", "fon": "fon_Latn", "hau": "hau_Latn", "ibo": "ibo_Latn",
    "kin": "kin_Latn", "lug": "lug_Latn", "luo": "luo_Latn", "mos": "mos_Latn", "nya": "nya_Latn",
    "sna": "sna_Latn", "swa": "swh_Latn", "tsn": "tsn_Latn", "twi": "twi_Latn", "wol": "wol_Latn",
    "xho": "xho_Latn", "yor": "yor_Latn", "zul": "zul_Latn",
}  # fmt: skip


@pytest.mark.parametrize(("code", "nllb"), MASAKHANER2_NLLB.items())
def test_masakhaner2_language_in_nllb(code: str, nllb: str) -> None:
    assert to_nllb(code) == nllb


@pytest.mark.parametrize(("code", "name"), [("pcm", "Nigerian Pidgin"), ("bbj", "Ghomálá'")])
def test_masakhaner2_language_outside_nllb(code: str, name: str) -> None:
    expected = f"{code} ({name}) is not one of NLLB-200's languages: {HINT_TEXT}"
    with pytest.raises(LanguageNotCoveredError) as caught:
        to_nllb(code)
    assert str(caught.value) == expected
    assert isinstance(caught.value, XnerError) and caught.value.iso639_3 == code


def test_masakhaner2_coverage() -> None:
    assert nllb_coverage(MASAKHANER2_LANGUAGES) == MASAKHANER2_NLLB | {"bbj": None, "pcm": None}


# --- the rules, case by case --------------------------------------------------------------------------------------

TO_NLLB_CASES = [
    # Swahili in every spelling
    ("sw", "swh_Latn"), ("swa", "swh_Latn"), ("swh", "swh_Latn"), ("sw-KE", "swh_Latn"), ("SWH_LATN", "swh_Latn"),
    ("swh-Latn", "swh_Latn"), (" sw ", "swh_Latn"), ("sw_Latn_TZ", "swh_Latn"),
    # macrolanguages → their NLLB member
    ("ar", "arb_Arab"), ("ara", "arb_Arab"), ("fa", "pes_Arab"), ("ms", "zsm_Latn"), ("no", "nob_Latn"),
    ("uz", "uzn_Latn"), ("az", "azj_Latn"), ("mn", "khk_Cyrl"), ("lv", "lvs_Latn"), ("ne", "npi_Deva"),
    ("or", "ory_Orya"), ("om", "gaz_Latn"), ("mg", "plt_Latn"), ("qu", "quy_Latn"), ("yi", "ydd_Hebr"),
    ("ps", "pbt_Arab"), ("sq", "als_Latn"), ("et", "est_Latn"), ("gn", "grn_Latn"), ("ay", "ayr_Latn"),
    ("kr", "knc_Latn"), ("ff", "fuv_Latn"), ("kg", "kon_Latn"),
    # Kurdish: Kurmanji by default, Sorani by its own code
    ("ku", "kmr_Latn"), ("ckb", "ckb_Arab"),
    # Norwegian
    ("nb", "nob_Latn"), ("nn", "nno_Latn"),
    # Chinese: simplified by default, traditional when asked for, Cantonese in traditional
    ("zh", "zho_Hans"), ("zho", "zho_Hans"), ("zh-CN", "zho_Hans"), ("zh-Hant", "zho_Hant"), ("zh-TW", "zho_Hant"),
    ("zh-HK", "zho_Hant"), ("zho_Hant", "zho_Hant"), ("zh-yue", "yue_Hant"), ("yue", "yue_Hant"),
    # several scripts in NLLB: DEFAULT_SCRIPT, or the one asked for
    ("ace", "ace_Latn"), ("bjn", "bjn_Latn"), ("kas", "kas_Arab"), ("ks", "kas_Arab"), ("knc", "knc_Latn"),
    ("taq", "taq_Latn"), ("ace-Arab", "ace_Arab"), ("kas_Deva", "kas_Deva"), ("taq_Tfng", "taq_Tfng"),
    # Wikipedia codes
    ("simple", "eng_Latn"), ("be-x-old", "bel_Cyrl"), ("map-bms", "jav_Latn"), ("bh", "bho_Deva"),
    ("sh", "hrv_Latn"), ("ZH-YUE", "yue_Hant"), ("zh_yue", "yue_Hant"),
    # NLLB's als_Latn is Tosk Albanian (only the bare "als" is Wikipedia's Alemannic)
    ("als_Latn", "als_Latn"),
    # regions are dropped, letter case ignored
    ("pt-BR", "por_Latn"), ("es-419", "spa_Latn"), ("yo-NG", "yor_Latn"), ("EN", "eng_Latn"), ("Hau", "hau_Latn"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "nllb"), TO_NLLB_CASES)
def test_to_nllb(code: str, nllb: str) -> None:
    assert to_nllb(code) == nllb


NOT_COVERED_CASES = [
    ("als", "als (gsw, Alemannic (Swiss German)) is not one of NLLB-200's languages"),
    ("zh-classical", "zh-classical (lzh, Classical Chinese) is not one of NLLB-200's languages"),
    ("zh-min-nan", "zh-min-nan (nan, Min Nan Chinese) is not one of NLLB-200's languages"),
    ("gsw", "gsw (Alemannic (Swiss German)) is not one of NLLB-200's languages"),
    ("la", "la (lat, Latin) is not one of NLLB-200's languages"),
    ("sr-Latn", "NLLB-200 has sr-Latn (srp) only as srp_Cyrl, not in Latn script"),
    ("yor_Arab", "NLLB-200 has yor_Arab (yor, Yorùbá) only as yor_Latn, not in Arab script"),
    ("yue-Hans", "NLLB-200 has yue-Hans (yue) only as yue_Hant, not in Hans script"),
]


@pytest.mark.parametrize(("code", "message"), NOT_COVERED_CASES)
def test_language_not_covered(code: str, message: str) -> None:
    with pytest.raises(LanguageNotCoveredError) as caught:
        to_nllb(code)
    assert str(caught.value) == f"{message}: {HINT_TEXT}"
    assert caught.value.code == code
    assert nllb_coverage([code]) == {code: None}


TO_ISO639_3_CASES = [
    ("sw", "swa"), ("swa", "swa"), ("swh", "swh"), ("SWH_LATN", "swh"), ("sw-KE", "swa"), ("yo-NG", "yor"),
    ("yor_Latn", "yor"), ("pt-BR", "por"), ("  HA ", "hau"), ("fa", "fas"), ("pes_Arab", "pes"),
    ("als", "gsw"), ("als_Latn", "als"), ("sq", "sqi"), ("simple", "eng"), ("zh-yue", "yue"), ("sh", "hbs"),
    ("eml", "egl"), ("diq", "diq"), ("nds", "nds"), ("pcm", "pcm"), ("bbj", "bbj"), ("iw", "heb"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "iso"), TO_ISO639_3_CASES)
def test_to_iso639_3(code: str, iso: str) -> None:
    assert to_iso639_3(code) == iso


UNKNOWN_CODES = ["xx", "qqq", "qqq_Latn", "", "  ", "sw-", "swahili", "s", "zh-Hant-Latn", "sw-KE-TZ", "sw_Latn_x"]


@pytest.mark.parametrize("code", UNKNOWN_CODES)
def test_unknown_code(code: str) -> None:
    for function in (to_nllb, to_iso639_3):
        with pytest.raises(XnerError, match="is not a known language code") as caught:
            function(code)
        assert not isinstance(caught.value, LanguageNotCoveredError)
        assert repr(code) in str(caught.value)
    with pytest.raises(XnerError, match="is not a known language code"):
        nllb_coverage(["sw", code])


@pytest.mark.parametrize(("code", "iso"), [("swh_Latn", "swh"), ("zho_Hant", "zho"), ("ACE_arab", "ace")])
def test_from_nllb(code: str, iso: str) -> None:
    assert from_nllb(code) == iso


@pytest.mark.parametrize("code", ["swh", "sw", "swa_Latn", "swh_Arab", "qqq_Latn", "", "zh-yue"])
def test_from_nllb_rejects_other_codes(code: str) -> None:
    with pytest.raises(XnerError, match="is not an NLLB-200 language code") as caught:
        from_nllb(code)
    assert repr(code) in str(caught.value)


def test_every_nllb_code_round_trips() -> None:
    for code in NLLB_CODES:
        assert to_nllb(code) == code
        assert to_nllb(code.upper()) == code
        assert from_nllb(code) == to_iso639_3(code) == code[:3]
