"""The tiny tokenizer: digits one per token, think tags atomic, a standard chat template."""

from thinklab.tiny.tokenizer import build_tokenizer


def test_tokenizer(tmp_path):
    tok = build_tokenizer(corpus_size=500)
    pieces = [tok.decode([i]) for i in tok("Compute 57 + 3")["input_ids"]]
    assert "5" in pieces[-4] and pieces[-3] == "7"  # " 5" then "7": one digit per token
    ids = tok("<think>\nStep 1: 12 + 3 = 15.\n</think>")["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("<think>")
    assert ids[-1] == tok.convert_tokens_to_ids("</think>")
    # kept when a server decodes with skip_special_tokens=True
    assert "</think>" in tok.decode(ids, skip_special_tokens=True)
    text = "any text: ünïcode, \\frac{1}{2} and 日本"
    assert tok.decode(tok(text)["input_ids"]) == text
    chat = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert chat == "<|user|>\nhi\n<|assistant|>\n"
    tok.save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again("Compute 57 + 3")["input_ids"] == tok("Compute 57 + 3")["input_ids"]
