package campaigns

// catalogEN holds the campaigns' messages in English.
var catalogEN = map[string]string{
	"campaigns.bad_time":         "I can't read the time \"{time}\" ({reason}). Times are in {zone}.",
	"campaigns.blocked":          "Draft {id} was not published: the output checks flagged it. Fix the fact in the knowledge base, or draft again.",
	"campaigns.flag":             "{check}: {detail}",
	"campaigns.no_channel_for":   "No brand channel is configured for {platform}. Name one: {channels}.",
	"campaigns.unknown_channel":  "\"{channel}\" is not a brand channel. The brand channels are: {channels}.",
	"campaigns.scheduled":        "Scheduled {id} for {channel} at {time}. See /post scheduled; cancel with /post cancel {id}.",
	"campaigns.published":        "Published {id} to {channel}; reach {reach} members. See /campaign {id}.",
	"campaigns.failed":           "Could not publish {id} to {channel}: {error}",
	"campaigns.none_scheduled":   "No posts are scheduled.",
	"campaigns.scheduled_header": "Scheduled posts (times in {zone}):",
	"campaigns.not_found":        "There is no post {id}. See /post scheduled or /campaigns.",
	"campaigns.not_scheduled":    "Post {id} is not waiting to go out (it is {status}).",
	"campaigns.cancelled":        "Cancelled {id}; it will not be published.",
}

// catalogZH holds the campaigns' messages in Chinese.
var catalogZH = map[string]string{
	"campaigns.bad_time":         "无法识别时间“{time}”（{reason}）。时间按 {zone} 计算。",
	"campaigns.blocked":          "草稿 {id} 未发布：输出检查标记了它。请在知识库中补充事实，或重新起草。",
	"campaigns.flag":             "{check}：{detail}",
	"campaigns.no_channel_for":   "没有为 {platform} 配置品牌频道。请指定一个：{channels}。",
	"campaigns.unknown_channel":  "“{channel}”不是品牌频道。品牌频道有：{channels}。",
	"campaigns.scheduled":        "已安排 {id} 于 {time} 发布到 {channel}。发送 /post scheduled 查看；发送 /post cancel {id} 取消。",
	"campaigns.published":        "已将 {id} 发布到 {channel}；覆盖 {reach} 名成员。发送 /campaign {id} 查看效果。",
	"campaigns.failed":           "无法将 {id} 发布到 {channel}：{error}",
	"campaigns.none_scheduled":   "没有待发布的帖子。",
	"campaigns.scheduled_header": "待发布的帖子（时间为 {zone}）：",
	"campaigns.not_found":        "没有帖子 {id}。请查看 /post scheduled 或 /campaigns。",
	"campaigns.not_scheduled":    "帖子 {id} 不在待发布状态（当前为 {status}）。",
	"campaigns.cancelled":        "已取消 {id}，它不会被发布。",
}
