// The OpenAI Node.js SDK as a client surface. It reads jobs, one JSON object per line on stdin, makes each call
// the way the documentation shows it, and writes what the SDK returned or raised, one JSON line per job, on
// stdout. One process serves a whole run: starting Node.js for every case would cost more than the case.
import OpenAI, { toFile } from "openai";
import readline from "node:readline";

// What an application reads from a completion: per choice, its text, finish reason and tool calls.
function choicesOf(completion) {
  return (completion?.choices ?? []).map((c) => ({
    index: c.index,
    content: c.message?.content ?? null,
    finish_reason: c.finish_reason ?? null,
    tool_calls: (c.message?.tool_calls ?? []).map((t) => ({
      id: t.id ?? null, name: t.function?.name ?? null, arguments: t.function?.arguments ?? null })),
  }));
}

// One step of a Batch API lifecycle, through the SDK's own method for it (conformance/batches.py).
async function batchStep(client, job) {
  // "batches/<id>/cancel", "files/<id>/content": each id is one path segment, percent-encoded by the suite (a
  // slash inside an id cannot make another operation); the SDK is handed the id itself and encodes it again.
  const endpoint = job.endpoint;
  const between = (prefix, suffix) => decodeURIComponent(endpoint.slice(prefix.length, endpoint.length - suffix.length));
  if (endpoint === "files" && job.method === "POST") {
    const file = await toFile(Buffer.from(job.body.file.content, "utf8"), job.body.file.filename,
                              { type: "application/jsonl" });
    const made = await client.files.create({ file, purpose: job.body.purpose });
    return { type: "FileObject", id: made.id ?? null };
  }
  if (endpoint === "batches") {
    const made = await client.batches.create(job.body);
    return { type: "Batch", id: made.id ?? null, status: made.status ?? null };
  }
  if (endpoint.startsWith("batches/") && endpoint.endsWith("/cancel")) {
    const made = await client.batches.cancel(between("batches/", "/cancel"));
    return { type: "Batch", id: made.id ?? null, status: made.status ?? null };
  }
  if (endpoint.startsWith("batches/")) {
    const made = await client.batches.retrieve(between("batches/", ""));
    return { type: "Batch", id: made.id ?? null, status: made.status ?? null };
  }
  if (endpoint.startsWith("files/") && endpoint.endsWith("/content")) {
    const text = await (await client.files.content(between("files/", "/content"))).text();
    return { type: "Response", lines: text.split("\n").filter((l) => l.trim()).length };
  }
  if (endpoint.startsWith("files/") && job.method === "DELETE") {
    const made = await client.files.delete(between("files/", ""));
    return { type: "FileDeleted", deleted: made.deleted ?? null };
  }
  throw new Error(`no SDK method for ${job.method} ${job.endpoint}`);
}

async function runJob(job) {
const client = new OpenAI({ baseURL: job.base_url, apiKey: job.api_key, maxRetries: 0, timeout: job.timeout_ms });
const out = { sdk: "openai-node" };
try {
  if (job.endpoint === "models") {
    const page = await client.models.list();
    out.returned = { type: "ModelsPage", models: page.data?.length ?? 0 };
  } else if (job.endpoint.startsWith("models/")) {
    const model = await client.models.retrieve(job.endpoint.slice("models/".length));
    out.returned = { type: "Model", id: model.id ?? null };
  } else if (job.endpoint.startsWith("files") || job.endpoint.startsWith("batches")) {
    out.returned = await batchStep(client, job);
  } else if (job.endpoint === "images/generations") {
    const images = await client.images.generate(job.body);
    out.returned = { type: "ImagesResponse", images: images.data?.length ?? 0 };
  } else if (job.endpoint === "embeddings") {
    const response = await client.embeddings.create(job.body);
    out.returned = { type: "CreateEmbeddingResponse", vectors: response.data?.length ?? 0 };
  } else if (job.body.stream === true) {
    // The SDK's stream helper: it folds the chunks into a completion, as applications do.
    const stream = client.chat.completions.stream(job.body);
    let chunks = 0;
    for await (const _ of stream) chunks += 1;
    const final = await stream.finalChatCompletion();
    out.returned = { type: "ChatCompletionStream", chunks, choices: choicesOf(final),
                     message: final?.choices?.[0]?.message ?? null };
  } else {
    const response = await client.chat.completions.create(job.body);
    // The message object as applications append it to their conversation (messages.push(message)).
    out.returned = { type: "ChatCompletion", choices: choicesOf(response),
                     message: response?.choices?.[0]?.message ?? null };
  }
} catch (error) {
  out.raised = {
    name: error?.constructor?.name ?? "Error",
    message: String(error?.message ?? error).slice(0, 300),
    status: error?.status ?? null,
  };
}
return out;
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let out;
  try {
    out = await runJob(JSON.parse(line));
  } catch (error) {
    out = { worker_error: String(error?.message ?? error).slice(0, 300) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
