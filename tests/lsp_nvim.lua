-- An independent LSP client test: Neovim's built-in client (headless) against
-- `regain lsp`, started by the README's snippet (passed as the init file by .ci/lsp.sh).
-- Opens policies/alipay.regain with an error inserted, waits for the diagnostics, asks
-- for hover and definition, writes the results as JSON to $REGAIN_NVIM_OUT and exits
-- non-zero when an assertion fails.
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
  local params = vim.lsp.util.make_position_params()
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
  params = vim.lsp.util.make_position_params()
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
end)
if not ok then
  check("script ran", false, err)
end
finish()
