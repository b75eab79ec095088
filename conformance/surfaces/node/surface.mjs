// The OpenAI Node.js SDK as a client surface: reads one job (JSON) on stdin, makes the call the way the
// documentation shows it, and prints what the SDK returned or raised (JSON) on stdout.
import OpenAI from "openai";

async function readStdin() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

const job = JSON.parse(await readStdin());
const client = new OpenAI({ baseURL: job.base_url, apiKey: job.api_key, maxRetries: 0, timeout: job.timeout_ms });
const out = { sdk: `openai-node ${OpenAI.VERSION ?? ""}`.trim() };
try {
  if (job.endpoint === "embeddings") {
    const response = await client.embeddings.create(job.body);
    out.returned = { type: "CreateEmbeddingResponse", vectors: response.data?.length ?? 0 };
  } else if (job.body.stream) {
    // The SDK's stream helper: it folds the chunks into a completion, as applications do.
    const stream = client.chat.completions.stream(job.body);
    let chunks = 0;
    for await (const _ of stream) chunks += 1;
    const final = await stream.finalChatCompletion();
    out.returned = {
      type: "ChatCompletionStream",
      chunks,
      choices: final.choices.map((c) => ({ index: c.index, content: c.message?.content ?? null,
                                           tool_calls: c.message?.tool_calls?.length ?? 0 })),
    };
  } else {
    const response = await client.chat.completions.create(job.body);
    out.returned = { type: "ChatCompletion", choices: response.choices?.length ?? 0 };
  }
} catch (error) {
  out.raised = {
    name: error?.constructor?.name ?? "Error",
    message: String(error?.message ?? error).slice(0, 300),
    status: error?.status ?? null,
  };
}
process.stdout.write(JSON.stringify(out));
