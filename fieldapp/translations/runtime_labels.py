"""Strings that are translated through a variable, listed so extraction finds them.

Some labels live in plain dicts or in ``sync/`` (which must not import flask_babel)
and are translated where they are shown, e.g. ``{{ _(sync_labels[key]) }}`` in the
review templates or ``_(check.error)`` in the roster validator. pybabel only extracts
string literals passed to ``_()``/``_l()``, so without this list those strings never
reach the catalogue and stay Chinese under ``?lang=en``. Nothing imports this module;
``tests/test_i18n.py`` checks that it covers the label dicts it mirrors
(``fieldapp.review.display`` SYNC/REVIEW/ACTION_LABELS, ``fieldapp.review.merges``
``_STATUS_LABELS``, the status filter of ``templates/review/duplicates.html``) and the
fixed error messages of ``sync.idnumber`` and ``sync.normalize``. (The roster file's
errors are kinds of the error catalogue, ``sync/errors.py``, with their English.)
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# fieldapp.review.display.SYNC_LABELS
SYNC_LABELS = (_l("已接收"), _l("有冲突"), _l("疑似重复"), _l("重复上传"), _l("被拒绝"))

# fieldapp.review.display.DECISION_KINDS and _CANDIDATE_STATUS (decision conflicts)
DECISION_KINDS = (_l("走访审核"), _l("冲突处理"), _l("排除疑似重复户"), _l("合并疑似重复户"), _l("撤销合并"),
                  _l("跨镇合并"), _l("撤销跨镇合并"))
CANDIDATE_STATUS = (_l("待处理"), _l("已合并"), _l("已排除"), _l("已失效"))

# fieldapp.review.display.REVIEW_LABELS
REVIEW_LABELS = (_l("待审核"), _l("已通过"), _l("已退回"), _l("已更正"))

# fieldapp.review.display.ACTION_LABELS (the audit log's actions)
ACTION_LABELS = (
    _l("审核通过"), _l("退回"), _l("解决冲突"), _l("合并户"), _l("撤销合并"), _l("排除重复"),
    _l("登录"), _l("导出"), _l("导出报表"), _l("新建用户"), _l("修改用户"), _l("分配村"),
    _l("重置密码"), _l("设备登录"), _l("设备退出"), _l("新建排查活动"), _l("启用排查活动"),
    _l("停用排查活动"), _l("关闭排查活动"), _l("导入花名册"), _l("批量查重"), _l("清除数据"),
    _l("上传"), _l("下载农户"), _l("查看签字图片"), _l("查看完整身份证号和电话"), _l("设置村委会位置"),
)

# fieldapp.review.merges.STATUS_LABELS and the status filter of review/duplicates.html
DUPLICATE_STATUS_LABELS = (_l("待处理"), _l("已合并"), _l("已排除"), _l("已失效"))

# sync.idnumber.validate_id and sync.normalize.phone_error (fixed messages only)
SYNC_ERRORS = (
    _l("请填写身份证号"),
    _l("身份证号格式错误：前17位应为数字，最后一位为数字或X"),
    _l("身份证号中的出生日期无效"),
    _l("身份证号校验位错误"),
    _l("联系电话应为11位手机号（1开头）或带区号的固定电话（如 0714-1234567）"),
)
