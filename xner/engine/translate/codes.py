"""Language codes for machine translation with NLLB-200: any usual code → the NLLB code, and back.

Sources: the 202 NLLB-200 language codes (``FAIRSEQ_LANGUAGE_CODES`` of transformers' NLLB tokenizer, copied here
as data so this module imports fast), ISO 639-1 → ISO 639-3, ISO 639-3 macrolanguages → the individual language
NLLB uses for them, and the Wikipedia language codes of WikiANN (which are not all ISO codes).

Rules of :func:`to_nllb`, in order:

1. an NLLB code (``swh_Latn``, any letter case) is returned as it is;
2. a WikiANN/Wikipedia code given whole (``zh-yue``, ``simple``, ``als``) means its Wikipedia language
   (:data:`WIKI_TO_ISO639_3`); so the bare ``als`` is Alemannic, as on Wikipedia, while NLLB's ``als_Latn`` and
   ISO's ``sq``/``sqi`` are Albanian;
3. otherwise a BCP-47-like code ``lang[-Script][-REGION]`` (``sw-KE``, ``zh-Hant``, ``yor_Latn``): the region is
   dropped (zh-TW, zh-HK and zh-MO mean zh-Hant), a two-letter ``lang`` goes through :data:`ISO639_1_TO_3`;
4. the ISO 639-3 code goes through :data:`MACRO_TO_NLLB` (``swa`` → ``swh_Latn``) or, when NLLB has the language
   itself, becomes ``<code>_<Script>`` with its script in NLLB (the one of :data:`DEFAULT_SCRIPT` when NLLB has
   several); a script asked for replaces it when NLLB has that variant (``zh-Hant`` → ``zho_Hant``);
5. a known language NLLB lacks raises :class:`LanguageNotCoveredError`, an unknown code :class:`~xner.errors.XnerError`.

>>> to_nllb("sw"), to_nllb("yo-NG"), to_nllb("zh-yue"), to_nllb("simple"), to_nllb("SWH_LATN")
('swh_Latn', 'yor_Latn', 'yue_Hant', 'eng_Latn', 'swh_Latn')
>>> to_iso639_3("fa"), from_nllb("pes_Arab")
('fas', 'pes')
>>> nllb_coverage(["ha", "pcm"])
{'ha': 'hau_Latn', 'pcm': None}
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from xner.errors import XnerError


def _pairs(text: str) -> dict[str, str]:
    """``"aa:aar ab:abk"`` → ``{"aa": "aar", "ab": "abk"}``: the tables below read as word lists."""
    return dict(item.split(":") for item in text.split())


# The NLLB-200 language codes, in the tokenizer's order (transformers' FAIRSEQ_LANGUAGE_CODES).
NLLB_CODES: tuple[str, ...] = tuple(
    """
    ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab arb_Arab ars_Arab
    ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn ban_Latn bel_Cyrl
    bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn
    cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn
    est_Latn eus_Latn ewe_Latn fao_Latn pes_Arab fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn
    gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn hun_Latn hye_Armn
    ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab
    kas_Deva kat_Geor knc_Arab knc_Latn kaz_Cyrl kbp_Latn kea_Latn khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn
    kon_Latn kor_Hang kmr_Latn lao_Laoo lvs_Latn lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn
    lua_Latn lug_Latn luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl plt_Latn mlt_Latn
    mni_Beng khk_Cyrl mos_Latn mri_Latn zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn nus_Latn
    nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru pap_Latn pol_Latn por_Latn prs_Arab pbt_Arab quy_Latn
    ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng scn_Latn shn_Mymr sin_Sinh slk_Latn slv_Latn smo_Latn
    sna_Latn snd_Arab som_Latn sot_Latn spa_Latn als_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn
    szl_Latn tam_Taml tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi taq_Latn taq_Tfng tpi_Latn tsn_Latn
    tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn
    vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zul_Latn
    """.split()
)

# ISO 639-1 → ISO 639-3 (the 639-2/T code: an individual language or a macrolanguage, as ISO defines it).
# The 184 two-letter codes of the ISO 639-3 tables (sh, Serbo-Croatian, withdrawn from 639-1, included), the
# withdrawn in/iw/ji/mo (now id/he/yi/ro), and bh, which ISO defines as the collective "Bihari languages" (639-2
# bih, no 639-3 code) but which names Bhojpuri in practice (bh.wikipedia.org is the Bhojpuri Wikipedia): bho.
ISO639_1_TO_3: dict[str, str] = _pairs(
    """
    aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym az:aze ba:bak be:bel bg:bul
    bh:bho bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che ch:cha co:cos cr:cre cs:ces cu:chu cv:chv
    cy:cym da:dan de:deu dv:div dz:dzo ee:ewe el:ell en:eng eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin
    fj:fij fo:fao fr:fra fy:fry ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv
    ht:hat hu:hun hy:hye hz:her ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl it:ita iu:iku ja:jpn
    jv:jav ka:kat kg:kon ki:kik kj:kua kk:kaz kl:kal km:khm kn:kan ko:kor kr:kau ks:kas ku:kur kv:kom kw:cor
    ky:kir la:lat lb:ltz lg:lug li:lim ln:lin lo:lao lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri mk:mkd ml:mal
    mn:mon mr:mar ms:msa mt:mlt my:mya na:nau nb:nob nd:nde ne:nep ng:ndo nl:nld nn:nno no:nor nr:nbl nv:nav
    ny:nya oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli pl:pol ps:pus pt:por qu:que rm:roh rn:run ro:ron
    ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag si:sin sk:slk sl:slv sm:smo sn:sna so:som sq:sqi sr:srp
    ss:ssw st:sot su:sun sv:swe sw:swa ta:tam te:tel tg:tgk th:tha ti:tir tk:tuk tl:tgl tn:tsn to:ton tr:tur
    ts:tso tt:tat tw:twi ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol wa:wln wo:wol xh:xho yi:yid
    yo:yor za:zha zh:zho zu:zul
    sh:hbs in:ind iw:heb ji:yid mo:ron
    """
)

# ISO 639-3 macrolanguages (and a few individual languages) that NLLB covers under another code → that NLLB
# code: the standard or most-used member language (Standard Malay, Iranian Persian, Modern Standard Arabic, North
# Azerbaijani, Halh Mongolian, Standard Latvian, Tosk Albanian, Southern Pashto, Northern Kurdish, West Central
# Oromo, Plateau Malagasy, Ayacucho Quechua, Northern Uzbek, Eastern Yiddish, Central Kanuri, Nigerian Fulfulde,
# Southwestern Dinka, Tamasheq, Norwegian Bokmål). Macrolanguages NLLB names by their own code (aka, est, grn,
# kon, srd, zho) are listed too, so that every macrolanguage NLLB covers is here.
# hbs (Serbo-Croatian, Wikipedia's "sh") → hrv_Latn: sh.wikipedia is written in Latin script, which srp_Cyrl
# would change, and Croatian is the Latin-script standard NLLB knows best (bos_Latn would do as well).
MACRO_TO_NLLB: dict[str, str] = _pairs(
    """
    aka:aka_Latn ara:arb_Arab aym:ayr_Latn aze:azj_Latn din:dik_Latn est:est_Latn fas:pes_Arab ful:fuv_Latn
    grn:grn_Latn hbs:hrv_Latn kau:knc_Latn kon:kon_Latn kur:kmr_Latn lav:lvs_Latn mlg:plt_Latn mon:khk_Cyrl
    msa:zsm_Latn nep:npi_Deva nor:nob_Latn ori:ory_Orya orm:gaz_Latn pus:pbt_Arab que:quy_Latn sqi:als_Latn
    srd:srd_Latn swa:swh_Latn tmh:taq_Latn uzb:uzn_Latn yid:ydd_Hebr zho:zho_Hans
    cmn:zho_Hans ekk:est_Latn gug:grn_Latn
    """
)

# Languages NLLB has in several scripts → the script used when none is asked for: the everyday one in current
# text (Acehnese, Banjar, Central Kanuri and Tamasheq are mostly written in Latin script today, Kashmiri in
# Perso-Arabic, Chinese mostly in simplified characters). Test-checked to name every multi-script NLLB language.
DEFAULT_SCRIPT: dict[str, str] = _pairs("ace:Latn bjn:Latn kas:Arab knc:Latn taq:Latn zho:Hans")

# The 176 WikiANN languages (Rahimi et al. 2019 split; configurations of the HF dataset unimelb-nlp/wikiann).
WIKIANN_LANGUAGES: tuple[str, ...] = tuple(
    """
    ace af als am an ang ar arc arz as ast ay az ba bar bat-smg be be-x-old bg bh bn bo br bs ca cbk-zam cdo ce
    ceb ckb co crh cs csb cv cy da de diq dv el eml en eo es et eu ext fa fi fiu-vro fo fr frr fur fy ga gan gd
    gl gn gu hak he hi hr hsb hu hy ia id ig ilo io is it ja jbo jv ka kk km kn ko ksh ku ky la lb li lij lmo ln
    lt lv map-bms mg mhr mi min mk ml mn mr ms mt mwl my mzn nap nds ne nl nn no nov oc or os pa pdc pl pms pnb
    ps pt qu rm ro ru rw sa sah scn sco sd sh si simple sk sl so sq sr su sv sw szl ta te tg th tk tl tr tt ug uk
    ur uz vec vep vi vls vo wa war wuu xmf yi yo zea zh zh-classical zh-min-nan zh-yue
    """.split()
)

# Wikipedia codes that are not ISO codes, or that Wikipedia uses in another sense → ISO 639-3. WikiANN's other
# three-letter codes (ace, ang, ..., zea) are ISO 639-3 codes of the same language, its two-letter ones ISO 639-1.
WIKI_TO_ISO639_3: dict[str, str] = _pairs(
    """
    als:gsw bat-smg:sgs be-x-old:bel bh:bho cbk-zam:cbk eml:egl fiu-vro:vro map-bms:jav sh:hbs simple:eng
    zh-classical:lzh zh-min-nan:nan zh-yue:yue
    """
)

# The 20 languages of MasakhaNER 2.0 (ISO 639-3, as the dataset names them).
MASAKHANER2_LANGUAGES: tuple[str, ...] = (
    "bam", "bbj", "ewe", "fon", "hau", "ibo", "kin", "lug", "luo", "mos",
    "nya", "pcm", "sna", "swa", "tsn", "twi", "wol", "xho", "yor", "zul",
)  # fmt: skip

# English names, for messages: the MasakhaNER 2.0 languages, the WikiANN ones NLLB lacks, the judgment calls.
LANGUAGE_NAMES: dict[str, str] = {
    # MasakhaNER 2.0
    "bam": "Bambara", "bbj": "Ghomálá'", "ewe": "Ewe", "fon": "Fon", "hau": "Hausa", "ibo": "Igbo",
    "kin": "Kinyarwanda", "lug": "Luganda", "luo": "Dholuo", "mos": "Mossi", "nya": "Chichewa",
    "pcm": "Nigerian Pidgin", "sna": "Shona", "swa": "Swahili", "tsn": "Setswana", "twi": "Twi", "wol": "Wolof",
    "xho": "isiXhosa", "yor": "Yorùbá", "zul": "isiZulu",
    # WikiANN languages NLLB-200 does not cover
    "ang": "Old English", "arc": "Aramaic", "arg": "Aragonese", "bar": "Bavarian", "bre": "Breton",
    "cbk": "Chavacano", "cdo": "Min Dong", "che": "Chechen", "chv": "Chuvash", "cos": "Corsican",
    "csb": "Kashubian", "diq": "Zazaki (Dimli)", "div": "Dhivehi", "egl": "Emilian", "ext": "Extremaduran",
    "frr": "North Frisian", "fry": "West Frisian", "gan": "Gan Chinese", "gsw": "Alemannic (Swiss German)",
    "hak": "Hakka Chinese", "hsb": "Upper Sorbian", "ido": "Ido", "ina": "Interlingua", "jbo": "Lojban",
    "ksh": "Colognian", "lat": "Latin", "lzh": "Classical Chinese", "mhr": "Eastern Mari", "mwl": "Mirandese",
    "mzn": "Mazanderani", "nan": "Min Nan Chinese", "nap": "Neapolitan", "nds": "Low German", "nov": "Novial",
    "oss": "Ossetian", "pdc": "Pennsylvania German", "pms": "Piedmontese", "pnb": "Western Punjabi (Shahmukhi)",
    "roh": "Romansh", "sah": "Yakut", "sco": "Scots", "sgs": "Samogitian", "vep": "Veps", "vls": "West Flemish",
    "vol": "Volapük", "vro": "Võro", "wln": "Walloon", "wuu": "Wu Chinese", "xmf": "Mingrelian", "zea": "Zeelandic",
    # judgment calls
    "als": "Tosk Albanian", "bho": "Bhojpuri", "hbs": "Serbo-Croatian",
}  # fmt: skip

_NLLB_SET = frozenset(NLLB_CODES)
_SCRIPTS: dict[str, list[str]] = {}  # NLLB language → its scripts: {"ace": ["Arab", "Latn"], ...}
for _nllb in NLLB_CODES:
    _SCRIPTS.setdefault(_nllb[:3], []).append(_nllb[4:])
del _nllb
_KNOWN_639_3 = frozenset(
    set(_SCRIPTS)
    | set(ISO639_1_TO_3.values())
    | set(MACRO_TO_NLLB)
    | set(WIKI_TO_ISO639_3.values())
    | {code for code in WIKIANN_LANGUAGES if len(code) == 3 and code not in WIKI_TO_ISO639_3}
    | set(MASAKHANER2_LANGUAGES)
    | set(LANGUAGE_NAMES)
)
_NLLB_PATTERN = re.compile(r"([a-z]{3})[_-]([a-z]{4})", re.IGNORECASE)
_SCRIPT_SUBTAG = re.compile(r"[a-z]{4}", re.IGNORECASE)  # -Latn
_REGION_SUBTAG = re.compile(r"[a-z]{2}|[0-9]{3}", re.IGNORECASE)  # -KE, -419 (UN M.49): dropped, except
_REGION_SCRIPT = {("zho", "TW"): "Hant", ("zho", "HK"): "Hant", ("zho", "MO"): "Hant"}  # zh-TW: traditional
_NOT_COVERED_HINT = "translate it another way and give the file (xner translate --translations FILE)"


class LanguageNotCoveredError(XnerError):
    """A known language (or script of one) that NLLB-200 does not translate; ``iso639_3`` is the language."""

    def __init__(self, code: str, iso639_3: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.iso639_3 = iso639_3


def _unknown(code: str) -> XnerError:
    return XnerError(
        f"{code!r} is not a known language code: expected an ISO 639-1 code (sw), the ISO 639-3 code of a "
        "language of ISO 639-1, NLLB-200, WikiANN or MasakhaNER 2.0 (swh), a WikiANN/Wikipedia code (zh-yue) "
        "or an NLLB-200 code (swh_Latn), optionally with -Script/-REGION"
    )


def _as_nllb(code: str) -> str | None:
    """``code`` as a canonical NLLB code (``SWH-latn`` → ``swh_Latn``), or None when it is not one."""
    match = _NLLB_PATTERN.fullmatch(code)
    if match is None:
        return None
    canonical = f"{match[1].lower()}_{match[2].title()}"
    return canonical if canonical in _NLLB_SET else None


def _parse(code: str) -> tuple[str, str | None]:
    """``code`` → (ISO 639-3 code, script asked for or None); unknown codes raise :class:`XnerError`."""
    text = code.strip()
    wiki = WIKI_TO_ISO639_3.get(text.lower().replace("_", "-"))
    if wiki is not None:
        return wiki, None
    nllb = _as_nllb(text)
    if nllb is not None:
        return nllb[:3], nllb[4:]
    base, *subtags = re.split(r"[-_]", text)
    script = region = None
    for subtag in subtags:
        if _SCRIPT_SUBTAG.fullmatch(subtag) and script is None:
            script = subtag.title()
        elif _REGION_SUBTAG.fullmatch(subtag) and region is None:
            region = subtag.upper()
        else:
            raise _unknown(code)
    base = base.lower()
    if len(base) == 2 and base in ISO639_1_TO_3:
        iso = ISO639_1_TO_3[base]
    elif len(base) == 3 and base in _KNOWN_639_3:
        iso = base
    else:
        raise _unknown(code)
    return iso, script or _REGION_SCRIPT.get((iso, region))


def _describe(code: str, iso: str) -> str:
    """``pcm (Nigerian Pidgin)``, ``als (gsw, Alemannic (Swiss German))``: for messages."""
    name = LANGUAGE_NAMES.get(iso)
    parts = [iso] if code.strip().lower() != iso else []
    if name is not None:
        parts.append(name)
    return f"{code} ({', '.join(parts)})" if parts else code


def _nllb_of(iso: str) -> str | None:
    """The NLLB code of ISO 639-3 language ``iso`` in its default script, or None when NLLB lacks it."""
    if iso in MACRO_TO_NLLB:
        return MACRO_TO_NLLB[iso]
    scripts = _SCRIPTS.get(iso)
    if not scripts:
        return None
    return f"{iso}_{DEFAULT_SCRIPT.get(iso, scripts[0])}"


def to_iso639_3(code: str) -> str:
    """The ISO 639-3 code of ``code`` (ISO 639-1/639-3, WikiANN/Wikipedia or NLLB code; any letter case).

    >>> to_iso639_3("sw"), to_iso639_3("pt-BR"), to_iso639_3("yor_Latn"), to_iso639_3("zh-min-nan")
    ('swa', 'por', 'yor', 'nan')

    Raises:
        XnerError: ``code`` is not a known language code.
    """
    return _parse(code)[0]


def to_nllb(code: str) -> str:
    """The NLLB-200 code for ``code`` (see the module docstring for the rules).

    >>> to_nllb("ar"), to_nllb("ace"), to_nllb("zh-Hant"), to_nllb("hau_Latn")
    ('arb_Arab', 'ace_Latn', 'zho_Hant', 'hau_Latn')

    Raises:
        LanguageNotCoveredError: NLLB-200 lacks the language, or the script asked for.
        XnerError: ``code`` is not a known language code.
    """
    iso, script = _parse(code)
    nllb = _nllb_of(iso)
    if nllb is None:
        raise LanguageNotCoveredError(
            code, iso, f"{_describe(code, iso)} is not one of NLLB-200's languages: {_NOT_COVERED_HINT}"
        )
    if script is None or nllb.endswith("_" + script):
        return nllb
    variant = f"{nllb[:3]}_{script}"
    if variant in _NLLB_SET:
        return variant
    have = ", ".join(f"{nllb[:3]}_{s}" for s in _SCRIPTS[nllb[:3]])
    raise LanguageNotCoveredError(
        code, iso, f"NLLB-200 has {_describe(code, iso)} only as {have}, not in {script} script: {_NOT_COVERED_HINT}"
    )


def from_nllb(code: str) -> str:
    """The ISO 639-3 code of NLLB-200 code ``code`` (its part before ``_``).

    >>> from_nllb("swh_Latn"), from_nllb("zho_Hant")
    ('swh', 'zho')

    Raises:
        XnerError: ``code`` is not an NLLB-200 code.
    """
    nllb = _as_nllb(code.strip())
    if nllb is None:
        raise XnerError(f"{code!r} is not an NLLB-200 language code (like swh_Latn or zho_Hant)")
    return nllb[:3]


def nllb_coverage(codes: Iterable[str]) -> dict[str, str | None]:
    """Each code → its NLLB-200 code, or None when NLLB does not cover it.

    Raises:
        XnerError: a code is not a known language code.
    """
    coverage: dict[str, str | None] = {}
    for code in codes:
        try:
            coverage[code] = to_nllb(code)
        except LanguageNotCoveredError:
            coverage[code] = None
    return coverage
