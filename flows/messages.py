"""The catalogue of validation and policy messages, in pt-BR and English.

Every issue the editor shows is built here from a code and its parameters, so the user never
reads jsonschema's or the expression parser's raw English, and both languages say the same
thing. Parameters may be plain values or ``{"pt-BR": ..., "en": ...}`` labels (field titles,
node names), which are picked per language.

Node modules keep the few messages that only they can raise next to their checks (already in
both languages); everything shared — required fields, limits, expressions, variables,
templates, the WhatsApp policy — lives here.
"""

from __future__ import annotations

import difflib
from typing import Any

Labels = dict[str, str]

CATALOGUE: dict[str, Labels] = {
    # --- Shape of a node's configuration (translated jsonschema errors)
    "required": {"pt-BR": "Preencha “{field}”.", "en": "Fill in “{field}”."},
    "too_short": {"pt-BR": "“{field}” precisa de ao menos {limit} caracteres.",
                  "en": "“{field}” needs at least {limit} characters."},
    "too_long": {"pt-BR": "“{field}” passa do limite de {limit} caracteres (tem {count}).",
                 "en": "“{field}” is over the limit of {limit} characters (it has {count})."},
    "too_many": {"pt-BR": "“{field}” aceita no máximo {limit} itens (tem {count}).",
                 "en": "“{field}” takes at most {limit} items (it has {count})."},
    "too_few": {"pt-BR": "“{field}” precisa de ao menos {limit} item(ns).",
                "en": "“{field}” needs at least {limit} item(s)."},
    "below_minimum": {"pt-BR": "“{field}” deve ser no mínimo {limit}.", "en": "“{field}” must be at least {limit}."},
    "above_maximum": {"pt-BR": "“{field}” deve ser no máximo {limit}.", "en": "“{field}” must be at most {limit}."},
    "not_an_option": {"pt-BR": "“{field}”: “{value}” não é uma das opções; escolha uma da lista.",
                      "en": "“{field}”: “{value}” is not one of the options; pick one from the list."},
    "wrong_type": {"pt-BR": "“{field}” deve ser {expected}.", "en": "“{field}” must be {expected}."},
    "bad_format": {"pt-BR": "“{field}” tem um formato inválido{hint}.", "en": "“{field}” has an invalid format{hint}."},
    "unknown_field": {"pt-BR": "Campo desconhecido nesta configuração: {names}.",
                      "en": "Unknown field in this configuration: {names}."},
    "invalid_value": {"pt-BR": "“{field}” tem um valor inválido.", "en": "“{field}” has an invalid value."},
    "definition_shape": {"pt-BR": "A definição do fluxo está malformada em “{where}”.",
                         "en": "The flow definition is malformed at “{where}”."},

    # --- Expressions ({{ path | filter }})
    "expr_empty": {"pt-BR": "Expressão vazia na posição {pos}: escreva uma variável, como {{{{contact.name}}}}.",
                   "en": "Empty expression at position {pos}: write a variable such as {{{{contact.name}}}}."},
    "expr_not_a_path": {"pt-BR": "“{text}” (posição {pos}) não é uma variável; use algo como contact.name.",
                        "en": "“{text}” (position {pos}) is not a variable; use something like contact.name."},
    "expr_unclosed": {"pt-BR": "O “{{{{” da posição {pos} não foi fechado com “}}}}”.",
                      "en": "The “{{{{” at position {pos} is not closed with “}}}}”."},
    "expr_unclosed_quote": {"pt-BR": "Uma aspa não foi fechada na expressão da posição {pos}.",
                            "en": "A quote is not closed in the expression at position {pos}."},
    "expr_unknown_filter": {"pt-BR": "Filtro desconhecido “{name}” (posição {pos}).{suggestion} Filtros: {known}.",
                            "en": "Unknown filter “{name}” (position {pos}).{suggestion} Filters: {known}."},
    "expr_bad_filter": {"pt-BR": "Não consegui ler o filtro “{text}” (posição {pos}).",
                        "en": "Cannot read the filter “{text}” (position {pos})."},
    "expr_filter_arity": {"pt-BR": "O filtro “{name}” (posição {pos}) aceita de {low} a {high} argumento(s).",
                          "en": "Filter “{name}” (position {pos}) takes {low} to {high} argument(s)."},
    "expr_bad_arguments": {"pt-BR": "Não consegui ler os argumentos “{text}” (posição {pos}); use textos entre aspas ou números.",
                           "en": "Cannot read the arguments “{text}” (position {pos}); use quoted texts or numbers."},
    "expr_too_many_filters": {"pt-BR": "No máximo {limit} filtros por expressão (posição {pos}).",
                              "en": "At most {limit} filters per expression (position {pos})."},
    "expr_too_long": {"pt-BR": "Texto maior que {limit} caracteres.", "en": "Text longer than {limit} characters."},
    "expr_invalid": {"pt-BR": "Expressão inválida na posição {pos}.", "en": "Invalid expression at position {pos}."},

    # --- Variables
    "unknown_variable": {"pt-BR": "Variável desconhecida aqui: “{path}”.{suggestion}",
                         "en": "Unknown variable here: “{path}”.{suggestion}"},
    "variable_not_yet": {"pt-BR": "“{path}” só existe depois de “{source}”; neste ponto do fluxo ela ainda não tem valor.",
                         "en": "“{path}” only exists after “{source}”; at this point of the flow it has no value yet."},
    "did_you_mean": {"pt-BR": " Você quis dizer “{suggestion}”?", "en": " Did you mean “{suggestion}”?"},

    # --- WhatsApp templates
    "template_unknown": {"pt-BR": "O template “{name}” não existe: sincronize os templates ou escolha outro.",
                         "en": "Template “{name}” does not exist: sync the templates or pick another."},
    "template_language_unknown": {"pt-BR": "O template “{name}” não existe em {language}; existe em: {languages}.",
                                  "en": "Template “{name}” does not exist in {language}; it exists in: {languages}."},
    "template_not_approved": {"pt-BR": "O template “{name}” está {status}, não aprovado: a Meta recusa o envio até aprovar.",
                              "en": "Template “{name}” is {status}, not approved: Meta refuses to send it until it is."},
    "template_param_empty": {"pt-BR": "A variável {{{{{n}}}}} do template está vazia: escolha um valor, por exemplo {{{{contact.first_name}}}}.",
                             "en": "Template variable {{{{{n}}}}} is empty: pick a value, for example {{{{contact.first_name}}}}."},
    "template_param_missing": {"pt-BR": "O template espera {expected} variável(is); falta preencher a {{{{{n}}}}}.",
                               "en": "The template expects {expected} variable(s); {{{{{n}}}}} is not filled in."},
    "template_param_extra": {"pt-BR": "O template tem só {expected} variável(is), mas o bloco envia {given}; remova as sobrando.",
                             "en": "The template has only {expected} variable(s) but the block sends {given}; remove the extra ones."},
    "template_param_name": {"pt-BR": "O template usa a variável nomeada “{name}”; dê esse nome ao valor correspondente.",
                            "en": "The template uses the named variable “{name}”; give the matching value that name."},

    # --- WhatsApp policy (flows/policy.py)
    "policy_window_trigger": {
        "pt-BR": "Texto livre só vai dentro de 24 h da última mensagem do cliente, e este fluxo começa por “{trigger}”, "
                 "que não vem de uma mensagem dele: a janela pode estar fechada. Use “Enviar template” ou espere a resposta do cliente antes.",
        "en": "Free-form text only goes within 24 h of the customer's last message, and this flow starts with “{trigger}”, "
              "which is not a message from them: the window may be closed. Use “Send template” or wait for the customer's reply first."},
    "policy_window_delay": {
        "pt-BR": "Texto livre depois de “{source}” ({hours} h sem mensagem do cliente): a janela de 24 h pode ter fechado e a Meta "
                 "recusa o envio. Use “Enviar template” aqui, ou “Aguardar resposta” antes.",
        "en": "Free-form text after “{source}” ({hours} h without a customer message): the 24-hour window may have closed and Meta "
              "refuses the send. Use “Send template” here, or “Wait for reply” before it."},
    "policy_window_unbounded": {
        "pt-BR": "Texto livre depois de “{source}”, que pode esperar mais de 24 h: a janela pode ter fechado. "
                 "Use “Enviar template” aqui, ou “Aguardar resposta” antes.",
        "en": "Free-form text after “{source}”, which may wait more than 24 h: the window may have closed. "
              "Use “Send template” here, or “Wait for reply” before it."},
    "policy_schedule_free_form": {
        "pt-BR": "Um agendamento (campanha) não pode começar com texto livre: os contatos não escreveram nas últimas 24 h. "
                 "Comece com “Enviar template”.",
        "en": "A schedule (campaign) cannot start with free-form text: the contacts have not written in the last 24 h. "
              "Start with “Send template”."},
    "policy_marketing_opt_in": {
        "pt-BR": "O template de marketing “{name}” pode chegar a contatos sem opt-in: coloque antes uma “Condição” em "
                 "{{{{contact.opted_in_marketing}}}} (senão a Meta/Fluxo recusa o envio para quem não aceitou).",
        "en": "Marketing template “{name}” can reach contacts without an opt-in: put a “Branch” on "
              "{{{{contact.opted_in_marketing}}}} before it (otherwise the send is refused for contacts who did not opt in)."},
    "policy_same_event": {
        "pt-BR": "O fluxo ativo “{flow}” também começa com {event}: os dois rodariam para o mesmo evento "
                 "(o cliente receberia mensagens em dobro). Escolha ao publicar: manter os dois ou substituir o outro.",
        "en": "Active flow “{flow}” also starts on {event}: both would run for the same event "
              "(the customer would get messages twice). Choose when publishing: keep both, or replace the other."},
}

EXPECTED_TYPES: dict[str, Labels] = {
    "string": {"pt-BR": "um texto", "en": "a text"},
    "number": {"pt-BR": "um número", "en": "a number"},
    "integer": {"pt-BR": "um número inteiro", "en": "a whole number"},
    "boolean": {"pt-BR": "sim ou não", "en": "yes or no"},
    "array": {"pt-BR": "uma lista", "en": "a list"},
    "object": {"pt-BR": "um grupo de campos", "en": "a group of fields"},
    "null": {"pt-BR": "vazio", "en": "empty"},
}


def _pick(value: Any, language: str) -> Any:
    if isinstance(value, dict) and set(value) <= {"pt-BR", "en"} and value:
        return value.get(language) or value.get("pt-BR") or value.get("en") or ""
    return value


def render(code: str, params: dict[str, Any] | None = None) -> Labels:
    """The message of ``code`` in both languages, filled with ``params`` (labels are picked per language)."""
    template = CATALOGUE.get(code)
    if template is None:
        raise KeyError(f"no message for {code!r}")
    params = params or {}
    out = {}
    for language in ("pt-BR", "en"):
        values = {key: _pick(value, language) for key, value in params.items()}
        out[language] = template[language].format(**values)
    return out


def did_you_mean(suggestion: str | None) -> Labels | str:
    """The " Você quis dizer …?" sentence (both languages), or nothing."""
    return render("did_you_mean", {"suggestion": suggestion}) if suggestion else ""


def closest(word: str, candidates: list[str] | set[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate closest to a typo, or None."""
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None
