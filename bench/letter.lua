-- The letter every submission benchmark sends (submit.lua as a form, api-submit.lua as JSON):
-- Chinese, several lines, a mobile number and an email address (so that the receipt mail is
-- queued in the outbox, as for most writers). An ordered list of {field, value}.

return {
  {"title", "关于老旧小区加装电梯补贴政策的咨询"},
  {"body", "您好！我是本市幸福街道某某小区的居民。小区建成于1995年，共六层，没有电梯，" ..
    "楼里七十岁以上的老人有二十多位，上下楼很不方便。\r\n" ..
    "想请教三个问题：\r\n" ..
    "一、老旧小区加装电梯目前有哪些补贴政策，每部电梯的补贴标准是多少？\r\n" ..
    "二、申请需要准备哪些材料，应当向哪个部门提交，大约需要多长时间？\r\n" ..
    "三、需要本单元多大比例的业主同意才能办理？一楼住户不同意时如何协调？\r\n" ..
    "盼复，谢谢！"},
  {"name", "李明"},
  {"phone", "138 1234 5678"},
  {"email", "liming@example.com"},
  {"address", "某某市某某区幸福路88号3栋2单元"},
}
