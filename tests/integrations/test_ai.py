"""AI replies: the offline built-in provider (BM25 + confidence), the OpenAI-compatible provider
against a real local fake, per-contact memory, and the ai_reply node's ports and step record."""

from __future__ import annotations

import json
import logging

import pytest

from flows.models import RunStep
from flows.nodes.base import StepError
from integrations.ai.retrieval import Index, tokenize
from integrations.ai.services import assistant_reply
from integrations.demo import FAQ
from integrations.models import Assistant, AssistantMemory, KnowledgeEntry
from integrations.vault.services import credential_create
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)
from tests.factories import definition, edge, make_contact, node
from tests.integrations.conftest import OPENAI_KEY, run_flow

pytestmark = pytest.mark.usefixtures("run_in_english")


@pytest.fixture
def faq_assistant(db):
    assistant = Assistant.objects.create(name="Loja", provider="builtin", confidence_threshold=0.5)
    for question, keywords, answer in FAQ:
        KnowledgeEntry.objects.create(assistant=assistant, question=question, keywords=keywords, answer=answer)
    return assistant


@pytest.fixture
def llm_assistant(db, openai_fake, allow_local):
    credential = credential_create(name="openai", kind="bearer", secret=OPENAI_KEY, base_url=openai_fake.url + "/v1")
    assistant = Assistant.objects.create(name="GPT", provider="openai", model="gpt-test", credential=credential,
                                         instructions="Você é a assistente da Loja Fluxo.", timeout_seconds=1)
    KnowledgeEntry.objects.create(assistant=assistant, question="Qual o prazo de entrega?",
                                  keywords="prazo, entrega", answer="De 2 a 5 dias úteis.")
    return assistant


def test_tokenize_folds_accents_plurals_and_stopwords():
    assert tokenize("Quais são as opções de Pagamentos?") == ["opca", "pagament"]
    assert tokenize("entregas") == tokenize("Entrega") == tokenize("entregar")
    assert tokenize("opção") == tokenize("opções") == tokenize("OPCOES")


def test_index_ranks_and_scores_coverage():
    index = Index([(1, "prazo de entrega frete", "2 a 5 dias"), (2, "troca devolução", "7 dias")])
    best = index.search("qual o prazo de entrega?")[0]
    assert best.key == 1 and best.confidence == 1.0
    assert index.search("receita de bolo") == []


@pytest.mark.parametrize(("question", "source"), [
    ("Qual o prazo de entrega?", "Qual o prazo de entrega?"),
    ("quanto tempo demora pra chegar meu pedido em Recife", "Qual o prazo de entrega?"),
    ("vocês aceitam pix?", "Quais as formas de pagamento?"),
    ("posso parcelar no cartão?", "Quais as formas de pagamento?"),
    ("quero trocar um produto com defeito", "Como faço uma troca ou devolução?"),
    ("Vocês abrem no sábado?", "Qual o horário de atendimento?"),
])
def test_builtin_answers_from_the_knowledge_entries(faq_assistant, question, source):
    contact = make_contact()
    result = assistant_reply(assistant="Loja", text=question, contact=contact)
    assert result["source"] == source
    assert result["provider"] == "builtin" and result["confidence"] >= 0.5
    assert result["text"] == KnowledgeEntry.objects.get(assistant=faq_assistant, question=source).answer
    assert isinstance(result["latency_ms"], int) and result["tokens"] == 0


@pytest.mark.parametrize("question", ["quero falar sobre o processo judicial da minha empresa",
                                      "qual a capital da Mongólia?",  # 'capitais' is only in an answer
                                      "meu filho quebrou a tela do notebook jogando bola", "???"])
def test_builtin_below_threshold_is_a_handoff(faq_assistant, question):
    with pytest.raises(StepError) as info:
        assistant_reply(assistant="Loja", text=question, contact=make_contact())
    assert info.value.code == "ai_low_confidence"
    assert "hand over" in info.value.message
    assert info.value.details["threshold"] == 0.5


def test_memory_keeps_the_last_turns_and_helps_follow_ups(faq_assistant, settings):
    settings.FLUXO_AI_MEMORY_MAX_TURNS = 2
    contact = make_contact()
    with pytest.raises(StepError):  # alone, the follow-up means nothing
        assistant_reply(assistant="Loja", text="e quanto fica?", contact=make_contact())
    assistant_reply(assistant="Loja", text="qual o prazo de entrega?", contact=contact)
    follow = assistant_reply(assistant="Loja", text="e quanto fica?", contact=contact)
    assert follow["source"] == "Qual o prazo de entrega?"
    assistant_reply(assistant="Loja", text="aceitam pix?", contact=contact)
    turns = AssistantMemory.objects.get(assistant=faq_assistant, contact=contact).turns
    assert len(turns) == 4  # 2 turns of question + answer
    assert [t["content"] for t in turns if t["role"] == "user"] == ["e quanto fica?", "aceitam pix?"]


def test_openai_compatible_provider(llm_assistant, openai_fake, caplog):
    caplog.set_level(logging.DEBUG)
    contact = make_contact()
    first = assistant_reply(assistant="GPT", text="Qual o prazo de entrega?", contact=contact, memory_turns=3)
    assert first["text"] == "Resposta para: Qual o prazo de entrega?"
    assert first["tokens"] == 42 and first["provider"] == "openai" and first["model"] == "gpt-test"
    assert first["confidence"] is None and first["latency_ms"] >= 0
    second = assistant_reply(assistant="GPT", text="E para o Sul?", contact=contact, memory_turns=3)
    assert second["text"].endswith("E para o Sul?")
    sent = [json.loads(r["body"]) for r in openai_fake.requests]
    assert openai_fake.requests[0]["headers"]["authorization"] == f"Bearer {OPENAI_KEY}"
    system = sent[0]["messages"][0]
    assert system["role"] == "system" and "Loja Fluxo" in system["content"] and "De 2 a 5 dias úteis." in system["content"]
    assert [m["role"] for m in sent[1]["messages"]] == ["system", "user", "assistant", "user"]
    assert sent[1]["messages"][1]["content"] == "Qual o prazo de entrega?"
    assert sent[0]["model"] == "gpt-test" and sent[0]["max_tokens"] == 400
    assert OPENAI_KEY not in caplog.text


@pytest.mark.parametrize(("mode", "code", "words"), [
    ("fail", "ai_provider_error", "500"), ("slow", "ai_timeout", "did not answer within 1 s"),
    ("bad", "ai_bad_response", "not a chat completion"),
])
def test_openai_provider_errors_take_failure_with_a_reason(llm_assistant, openai_fake, mode, code, words, caplog):
    openai_fake.state.update(mode=mode, delay=2.0)
    with pytest.raises(StepError) as info:
        assistant_reply(assistant="GPT", text="oi", contact=make_contact())
    assert info.value.code == code and words in info.value.message
    assert OPENAI_KEY not in info.value.message + caplog.text


def test_openai_wrong_key_is_reported_without_the_key(llm_assistant, openai_fake):
    llm_assistant.credential.secret = "sk-wrong-key-000000000000"
    llm_assistant.credential.save()
    with pytest.raises(StepError) as info:
        assistant_reply(assistant="GPT", text="oi", contact=make_contact())
    assert info.value.code == "ai_auth" and "401" in info.value.message
    assert "sk-wrong" not in info.value.message


def test_openai_provider_is_ssrf_guarded(llm_assistant, settings, openai_fake):
    settings.FLUXO_HTTP_ALLOWLIST = []
    with pytest.raises(StepError) as info:
        assistant_reply(assistant="GPT", text="oi", contact=make_contact())
    assert info.value.code == "ai_blocked"
    assert openai_fake.requests == []


def test_unknown_assistant(db):
    with pytest.raises(StepError) as info:
        assistant_reply(assistant="Fantasma", text="oi", contact=make_contact())
    assert info.value.code == "assistant_missing"


def _triage(assistant: str):
    return definition(
        [node("t", "trigger", event="message", match="any"),
         node("ai", "ai_reply", assistant=assistant, input="{{trigger.text}}", output_variable="answer", memory_turns=4),
         node("say", "send_message", text="{{vars.answer}}"),
         node("human", "send_message", text="Vou chamar uma pessoa do time.")],
        [edge("t", "ai"), edge("ai", "say"), edge("ai", "human", "failure")],
    )


def test_ai_reply_node_records_tokens_and_latency(llm_assistant, openai_fake):
    run = run_flow(_triage("GPT"), make_contact(), trigger={"text": "Qual o prazo?"})
    step = RunStep.objects.exclude(outcome="wait").get(run=run, node_id="ai")  # the answered call
    assert step.port == "next"
    assert step.output["tokens"] == 42 and "latency_ms" in step.output and step.output["provider"] == "openai"
    assert run.context["vars"]["answer"] == "Resposta para: Qual o prazo?"
    assert run.messages.get().content["text"]["body"] == "Resposta para: Qual o prazo?"


def test_ai_reply_node_hands_over_on_low_confidence(faq_assistant):
    run = run_flow(_triage("Loja"), make_contact(), trigger={"text": "preciso de ajuda com meu processo judicial"})
    step = RunStep.objects.exclude(outcome="wait").get(run=run, node_id="ai")  # the answered call
    assert step.port == "failure" and "not sure enough" in step.error
    assert run.messages.get().content["text"]["body"] == "Vou chamar uma pessoa do time."


def test_ai_reply_node_provider_timeout_takes_failure(llm_assistant, openai_fake):
    openai_fake.state.update(mode="slow", delay=2.0)
    run = run_flow(_triage("GPT"), make_contact(), trigger={"text": "oi"})
    step = RunStep.objects.exclude(outcome="wait").get(run=run, node_id="ai")  # the answered call
    assert step.port == "failure" and "did not answer within" in step.error
    assert OPENAI_KEY not in json.dumps([step.input, step.output, step.error])


def test_new_knowledge_is_used_at_once(faq_assistant):
    question = "vocês vendem vale-presente?"
    with pytest.raises(StepError):
        assistant_reply(assistant="Loja", text=question, contact=make_contact())
    KnowledgeEntry.objects.create(assistant=faq_assistant, question="Vocês têm vale-presente?",
                                  keywords="vale, presente, gift card", answer="Sim, de R$ 50 a R$ 500.")
    assert assistant_reply(assistant="Loja", text=question, contact=make_contact())["text"] == "Sim, de R$ 50 a R$ 500."


def test_stale_memory_is_not_given_to_the_provider(llm_assistant, openai_fake):
    from datetime import timedelta

    from django.utils import timezone

    contact = make_contact()
    old = (timezone.now() - timedelta(days=3)).isoformat()
    AssistantMemory.objects.create(assistant=llm_assistant, contact=contact, turns=[
        {"role": "user", "content": "pedido antigo", "at": old}, {"role": "assistant", "content": "ok", "at": old}])
    assistant_reply(assistant="GPT", text="primeira", contact=contact, memory_turns=5)
    assistant_reply(assistant="GPT", text="segunda", contact=contact, memory_turns=5)
    first, second = (json.loads(r["body"])["messages"] for r in openai_fake.requests)
    assert [m["content"] for m in first[1:]] == ["primeira"]
    assert [m["content"] for m in second[1:]] == ["primeira", "Resposta para: primeira", "segunda"]
