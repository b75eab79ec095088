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

const made = (type, object) => ({ type, id: object.id ?? null, status: object.status ?? null });
// What an application reads of a response, and the response itself (a conversation continues from it).
const responseRead = (type, response, more = {}) => ({
  type, status: response?.status ?? null, output_text: String(response?.output_text ?? "").slice(0, 200), ...more,
  message: response ?? null });

// Each operation of conformance.api (its id, the job's "operation"), as the SDK's documentation calls it, and what
// an application reads of the result: the one table this surface keeps. Path parameters arrive as the ids
// themselves; the SDK encodes them into the path.
const CALLS = {
  "chat.create": async (client, job) => {
    if (job.body.stream === true) {
      // The SDK's stream helper: it folds the chunks into a completion, as applications do.
      const stream = client.chat.completions.stream(job.body);
      let chunks = 0;
      for await (const _ of stream) chunks += 1;
      const final = await stream.finalChatCompletion();
      return { type: "ChatCompletionStream", chunks, choices: choicesOf(final),
               message: final?.choices?.[0]?.message ?? null };
    }
    const response = await client.chat.completions.create(job.body);
    // The message object as applications append it to their conversation (messages.push(message)).
    return { type: "ChatCompletion", choices: choicesOf(response), message: response?.choices?.[0]?.message ?? null };
  },
  "embeddings.create": async (client, job) => {
    const response = await client.embeddings.create(job.body);
    return { type: "CreateEmbeddingResponse", vectors: response.data?.length ?? 0 };
  },
  "models.list": async (client) => {
    const page = await client.models.list();
    return { type: "ModelsPage", models: page.data?.length ?? 0 };
  },
  "models.retrieve": async (client, job) => {
    const model = await client.models.retrieve(job.params.model);
    return { type: "Model", id: model.id ?? null };
  },
  "images.generate": async (client, job) => {
    const images = await client.images.generate(job.body);
    return { type: "ImagesResponse", images: images.data?.length ?? 0 };
  },
  "files.create": async (client, job) => {
    const file = await toFile(Buffer.from(job.body.file.content, "utf8"), job.body.file.filename,
                              { type: "application/jsonl" });
    const object = await client.files.create({ file, purpose: job.body.purpose });
    return { type: "FileObject", id: object.id ?? null };
  },
  "files.content": async (client, job) => {
    const text = await (await client.files.content(job.params.file_id)).text();
    return { type: "Response", lines: text.split("\n").filter((l) => l.trim()).length };
  },
  "files.delete": async (client, job) => {
    const object = await client.files.delete(job.params.file_id);
    return { type: "FileDeleted", deleted: object.deleted ?? null };
  },
  "batches.create": async (client, job) => made("Batch", await client.batches.create(job.body)),
  "batches.retrieve": async (client, job) => made("Batch", await client.batches.retrieve(job.params.batch_id)),
  "batches.cancel": async (client, job) => made("Batch", await client.batches.cancel(job.params.batch_id)),
  "responses.create": async (client, job) => {
    if (job.body.stream === true) {
      // The SDK's stream helper: it folds the events into the final response, as applications read it.
      const { stream: _, ...body } = job.body;
      const stream = client.responses.stream(body);
      let events = 0;
      for await (const _event of stream) events += 1;
      return responseRead("ResponseStream", await stream.finalResponse(), { events });
    }
    return responseRead("Response", await client.responses.create(job.body));
  },
  "responses.retrieve": async (client, job) =>
    responseRead("Response", await client.responses.retrieve(job.params.response_id)),
  "responses.cancel": async (client, job) =>
    responseRead("Response", await client.responses.cancel(job.params.response_id)),
  "responses.delete": async (client, job) => {
    await client.responses.delete(job.params.response_id);
    return { type: "void", message: { id: job.params.response_id, deleted: true } };
  },
  "responses.input_items": async (client, job) => {
    const page = await client.responses.inputItems.list(job.params.response_id);
    return { type: "ResponseItemsPage", items: page.data?.length ?? 0,
             message: { object: "list", data: page.data ?? [] } };
  },
};

async function runJob(job) {
  const client = new OpenAI({ baseURL: job.base_url, apiKey: job.api_key, maxRetries: 0, timeout: job.timeout_ms });
  const out = { sdk: "openai-node" };
  try {
    const call = CALLS[job.operation];
    if (call === undefined) throw new Error(`no SDK method for the operation ${job.operation}`);
    out.returned = await call(client, job);
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
