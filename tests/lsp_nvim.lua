-- An independent LSP client test: Neovim's built-in client (headless) against
-- `regain lsp`, started by the README's snippet (passed as the init file by .ci/lsp.sh).
-- Opens policies/alipay.regain with two errors inserted (one after non-ASCII text on its
-- line, so Neovim's own UTF-16 conversion must land on it), waits for the diagnostics,
-- asks for hover and definition; then opens a second, valid file with messy spacing
-- (the same server, code lenses, completion, formatting back to `regain fmt`'s layout).
-- Writes the results as JSON to $REGAIN_NVIM_OUT and exits non-zero when a check fails.
-- Runs on Neovim 0.7 and later.
local root = assert(os.getenv("REGAIN_ROOT"), "REGAIN_ROOT")
local out = assert(os.getenv("REGAIN_NVIM_OUT"), "REGAIN_NVIM_OUT")
local results = { checks = {} }
local failed = false

local function check(name, ok, detail)
  table.insert(results.checks, { name = name, ok = ok and true or false, detail = detail })
  if not ok then
    failed = true
    io.stderr:write("FAIL " .. name .. ": " .. vim.inspect(detail) .. "\n")
  else
    io.stderr:write("ok   " .. name .. "\n")
  end
end

local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(results))
  f:close()
  if failed then
    vim.cmd("cquit 1")
  else
    vim.cmd("qall!")
  end
end

local ok, err = pcall(function()
  -- The policy with an error: an unknown method (did you mean `sms_code`?).
  local src = table.concat(vim.fn.readfile(root .. "/policies/alipay.regain"), "\n")
  local broken = src:gsub("steps sms_code then", "steps sms_cod then", 1)
  broken = broken:gsub('deny "account is frozen" when account.frozen', 'deny "gelé 😀 — frozen" when account.frozn', 1)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  local file = dir .. "/alipay.regain"
  vim.fn.writefile(vim.split(broken, "\n"), file)
  vim.cmd("edit " .. file)
  local buf = vim.api.nvim_get_current_buf()
  check("filetype", vim.bo[buf].filetype == "regain", vim.bo[buf].filetype)

  local got = vim.wait(30000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  local diags = vim.diagnostic.get(buf)
  results.diagnostics = {}
  for _, d in ipairs(diags) do
    table.insert(results.diagnostics, { lnum = d.lnum, col = d.col, message = d.message, code = d.code })
  end
  check("diagnostics arrive", got, #diags)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local want_line
  for i, l in ipairs(lines) do
    if l:find("steps sms_cod then", 1, true) then
      want_line = i - 1
    end
  end
  local found = nil
  for _, d in ipairs(diags) do
    if d.message == "unknown method `sms_cod`" then
      found = d
    end
  end
  check("unknown method diagnostic", found ~= nil, results.diagnostics)
  if found then
    check("diagnostic code", found.code == "E0005", found.code)
    check("diagnostic line", found.lnum == want_line, { found.lnum, want_line })
    check("diagnostic column", found.col == lines[want_line + 1]:find("sms_cod", 1, true) - 1, found.col)
  end

  -- On a line with non-ASCII text before it: Neovim turns the UTF-16 range into bytes.
  local fact_line, fact_col
  for i, l in ipairs(lines) do
    local c = l:find("account.frozn", 1, true)
    if c then
      fact_line, fact_col = i - 1, c - 1
    end
  end
  local unknown_fact
  for _, d in ipairs(diags) do
    if d.code == "E0003" then
      unknown_fact = d
    end
  end
  check(
    "diagnostic after non-ASCII text",
    unknown_fact ~= nil
      and unknown_fact.lnum == fact_line
      and unknown_fact.col == fact_col
      and unknown_fact.end_col == fact_col + #"account.frozn",
    { unknown_fact and { unknown_fact.lnum, unknown_fact.col, unknown_fact.end_col }, fact_line, fact_col }
  )

  -- Hover on a method in `steps` (the `app_prompt` after `steps` in unbind_phone).
  local function at(needle, nth)
    local n = 0
    for i, l in ipairs(lines) do
      local c = l:find(needle, 1, true)
      if c then
        n = n + 1
        if n == (nth or 1) then
          return i, c - 1
        end
      end
    end
  end
  local row, col = at("steps app_prompt then")
  vim.api.nvim_win_set_cursor(0, { row, col + #"steps " })
  local params = vim.lsp.util.make_position_params(0, "utf-16")
  local hover = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, 10000) or {}
  local text = ""
  for _, r in pairs(hover) do
    if r.result and r.result.contents then
      text = text .. (r.result.contents.value or "")
    end
  end
  results.hover = text
  check("hover names the method and its factor", text:find("app_prompt: possession", 1, true) ~= nil, text)
  check("hover gives requires", text:find("requires `device.trusted`", 1, true) ~= nil, text)

  -- Definition of a fact used in a `when`, after non-ASCII text earlier in the file.
  row, col = at("when email.changed_days > 30")
  vim.api.nvim_win_set_cursor(0, { row, col + #"when " + 2 })
  params = vim.lsp.util.make_position_params(0, "utf-16")
  local defs = vim.lsp.buf_request_sync(buf, "textDocument/definition", params, 10000) or {}
  local loc
  for _, r in pairs(defs) do
    if r.result then
      loc = r.result.range and r.result or r.result[1]
    end
  end
  results.definition = loc
  local drow, dcol = at("  email.changed_days:")
  check("definition", loc ~= nil and loc.range.start.line == drow - 1 and loc.range.start.character == dcol + 2, loc)
  local k = vim.fn.maparg("K", "n", false, true)
  check("K is mapped in the buffer", k.buffer == 1, { buffer = k.buffer, lhs = k.lhs })
  check("omnifunc", vim.bo[buf].omnifunc == "v:lua.vim.lsp.omnifunc", vim.bo[buf].omnifunc)

  -- A second, valid file with messy spacing.
  local function clients_of(b)
    if vim.lsp.get_clients then
      return vim.lsp.get_clients({ bufnr = b })
    end
    local t = {}
    for _, c in pairs(vim.lsp.buf_get_clients(b)) do
      table.insert(t, c)
    end
    return t
  end
  local messy = src:gsub("grants reset_password", "grants     reset_password")
  local file2 = dir .. "/messy.regain"
  vim.fn.writefile(vim.split(messy, "\n"), file2)
  vim.cmd("edit " .. file2)
  local buf2 = vim.api.nvim_get_current_buf()
  vim.wait(10000, function()
    return #clients_of(buf2) > 0
  end, 50)
  local c1, c2 = clients_of(buf)[1], clients_of(buf2)[1]
  check("one server for both files", c1 ~= nil and c2 ~= nil and c1.id == c2.id and #clients_of(buf2) == 1,
    { c1 and c1.id, c2 and c2.id })

  -- Code lenses from the analyser.
  vim.lsp.codelens.refresh()
  local policy_lens
  vim.wait(20000, function()
    for _, l in ipairs(vim.lsp.codelens.get(buf2) or {}) do
      local title = l.command and l.command.title or ""
      if title:find("^allow ") then
        policy_lens = l
      end
    end
    return policy_lens ~= nil
  end, 50)
  local lenses = vim.lsp.codelens.get(buf2) or {}
  results.lenses = {}
  for _, l in ipairs(lenses) do
    table.insert(results.lenses, l.command and l.command.title)
  end
  check("code lenses", policy_lens ~= nil and #lenses == 6, results.lenses)

  -- Completion of facts after `when `.
  local lines2 = vim.api.nvim_buf_get_lines(buf2, 0, -1, false)
  for i, l in ipairs(lines2) do
    local c = l:find("when phone.bound and not", 1, true)
    if c then
      vim.api.nvim_win_set_cursor(0, { i, c - 1 + #"when " })
    end
  end
  params = vim.lsp.util.make_position_params(0, "utf-16")
  local comp = vim.lsp.buf_request_sync(buf2, "textDocument/completion", params, 10000) or {}
  local labels = {}
  for _, r in pairs(comp) do
    local items = r.result and (r.result.items or r.result) or {}
    for _, it in ipairs(items) do
      labels[it.label] = true
    end
  end
  check("completion offers facts", labels["phone.active"] and labels["account.risk"] and not labels["sms_code"], labels)

  -- Formatting gives back `regain fmt`'s layout (the shipped file is canonical).
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = buf2 })
  else
    vim.lsp.buf.formatting_sync()
  end
  local formatted = table.concat(vim.api.nvim_buf_get_lines(buf2, 0, -1, false), "\n")
  check("formatting", formatted == src, #formatted)
end)
if not ok then
  check("script ran", false, err)
end
finish()
